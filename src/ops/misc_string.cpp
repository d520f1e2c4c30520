// The string operators: StringConcat, RegexFullMatch, StringSplit (opset 20) and StringNormalizer (opset
// 10). Elements are std::string holding UTF-8 bytes; the operators work on bytes except where noted.
//
// - StringConcat: numpy-broadcasting concatenation.
// - RegexFullMatch: the spec asks for RE2 syntax; Sluice uses std::regex with the ECMAScript grammar,
//   which agrees with RE2 on the common subset (classes, \w \d \s \b, groups, alternation, repetition,
//   ^ $), after rewriting RE2's \A and \z to ^ and $, (?P<name> groups to plain ones and a leading (?i)
//   to case-insensitive matching. libstdc++'s polynomial mode runs the match as a breadth-first NFA
//   (like RE2: time linear in the input, stack depth bounded by the pattern; the default backtracking
//   matcher recurses once per input character and overflows the stack on inputs of some ten thousand
//   characters) and, like RE2, rejects backreferences. What still differs: other RE2 flags and \p{...}
//   classes are rejected as invalid; ECMAScript lookahead is accepted; `.` and classes match single
//   bytes, not UTF-8 code points; `.` does not match \r.
// - StringSplit: Python's str.split semantics (the ONNX reference uses them): with a delimiter, at most
//   `maxsplit` splits, consecutive delimiters give empty pieces; with an empty or absent delimiter,
//   runs of whitespace separate pieces, leading and trailing whitespace gives none, and the unsplit rest
//   after `maxsplit` splits keeps its trailing whitespace. Y pads each element's pieces with "" to the
//   largest count; Z holds the counts.
// - StringNormalizer: drops stopwords (exact or case-insensitive match), then changes case. Case mapping
//   covers ASCII, Latin-1, Latin Extended-A, basic Greek and basic Cyrillic one-to-one pairs, whatever
//   the `locale` (no locale-specific rules such as Turkish dotless i; mappings that change a string's
//   length, such as German sharp s to "SS", are left out).
#include <regex>

#include "ops/misc.hpp"

namespace sluice::ops::misc {
namespace {

// ---- Shared checks -------------------------------------------------------------------------------

// Shape inference: input `i` must be a string tensor (an undefined, not yet inferred type passes).
void check_string_input(const InferContext& ctx, size_t i, const char* name) {
  const ElementType type = ctx.input_type(i);
  SLUICE_CHECK(type == ElementType::string || type == ElementType::undefined, where(ctx.node), "input '",
               name, "' has element type ", to_string(type), "; expected string");
}

// Kernels: input `i` must be present and hold strings.
const Tensor& string_input(const Node& node, std::span<const Tensor> in, size_t i, const char* name) {
  SLUICE_CHECK(i < in.size() && !in[i].empty(), where(node), "input '", name, "' is required but missing");
  SLUICE_CHECK(in[i].type() == ElementType::string, where(node), "input '", name, "' is a ", describe(in[i]),
               "; expected a string tensor");
  return in[i];
}

OpSchema string_schema(const char* op_type, int64_t since, int inputs, int outputs) {
  OpSchema s;
  s.op_type = op_type;
  s.since_version = since;
  s.min_inputs = inputs;
  s.max_inputs = inputs;
  s.min_outputs = outputs;
  s.max_outputs = outputs;
  s.takes_strings = true;
  return s;
}

// ---- StringConcat --------------------------------------------------------------------------------

std::vector<Tensor> concat_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& x = string_input(node, in, 0, "X");
  const Tensor& y = string_input(node, in, 1, "Y");
  const Shape out_shape = broadcast_shapes(x.shape(), y.shape(), node);
  Tensor out(ElementType::string, out_shape);
  const std::string* px = x.data<std::string>();
  const std::string* py = y.data<std::string>();
  std::string* po = out.data<std::string>();
  for_each_broadcast(x.shape(), y.shape(), out_shape, [&](int64_t o, int64_t ix, int64_t iy) {
    po[o].reserve(px[ix].size() + py[iy].size());
    po[o] = px[ix];
    po[o] += py[iy];
  });
  return {out};
}

void register_concat(OpRegistry& registry) {
  OpSchema s = string_schema("StringConcat", 20, 2, 1);
  s.infer = [](InferContext& ctx) {
    check_string_input(ctx, 0, "X");
    check_string_input(ctx, 1, "Y");
    ctx.set_output(0, ElementType::string,
                   broadcast_partial_shapes(ctx.input_shape(0), ctx.input_shape(1), ctx.node));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return concat_kernel(node, in);
  };
  registry.add(std::move(s));
}

// ---- RegexFullMatch ------------------------------------------------------------------------------

// Rewrites the RE2 forms std::regex lacks into ECMAScript ones (see the top of the file); sets `icase`
// for a leading (?i).
std::string ecmascript_from_re2(const std::string& re2, bool& icase) {
  std::string out;
  size_t i = 0;
  icase = re2.starts_with("(?i)");
  if (icase) i = 4;
  bool in_class = false;
  for (; i < re2.size(); ++i) {
    const char c = re2[i];
    if (c == '\\' && i + 1 < re2.size()) {
      const char next = re2[++i];
      if (!in_class && next == 'A') {
        out += '^';
      } else if (!in_class && next == 'z') {
        out += '$';
      } else {
        out += c;
        out += next;
      }
    } else if (in_class) {
      if (c == '[' && i + 1 < re2.size() && re2[i + 1] == ':') {  // [:alpha:] inside a class
        const size_t end = re2.find(":]", i + 2);
        const size_t stop = end == std::string::npos ? re2.size() : end + 2;
        out.append(re2, i, stop - i);
        i = stop - 1;
        continue;
      }
      if (c == ']') in_class = false;
      out += c;
    } else if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < re2.size() && re2[i + 1] == '^') out += re2[++i];
      // RE2 reads a ']' first in a class as a member; ECMAScript would close the class there.
      if (i + 1 < re2.size() && re2[i + 1] == ']') {
        out += "\\]";
        ++i;
      }
    } else if (re2.compare(i, 4, "(?P<") == 0 && re2.find('>', i) != std::string::npos) {
      out += '(';
      i = re2.find('>', i);
    } else {
      out += c;
    }
  }
  return out;
}

std::regex compile_pattern(const Node& node) {
  const std::string pattern = node.attr_string("pattern");
  bool icase = false;
  const std::string ecmascript = ecmascript_from_re2(pattern, icase);
  auto flags = std::regex::ECMAScript;
  if (icase) flags |= std::regex::icase;
#if defined(__GLIBCXX__)
  flags |= std::regex_constants::__polynomial;
#endif
  try {
    return std::regex(ecmascript, flags);
  } catch (const std::regex_error& e) {
    throw_error(where(node), "attribute 'pattern' ('", pattern,
                "') is not a valid regular expression: ", e.what(),
                " (Sluice supports the part of RE2 syntax that std::regex's ECMAScript grammar shares)");
  }
}

std::vector<Tensor> regex_kernel(const Node& node, std::span<const Tensor> in) {
  const std::regex re = compile_pattern(node);
  const Tensor& x = string_input(node, in, 0, "X");
  Tensor out(ElementType::boolean, x.shape());
  const std::string* px = x.data<std::string>();
  bool* po = out.data<bool>();
  for (int64_t i = 0; i < x.size(); ++i) {
    try {
      po[i] = std::regex_match(px[i], re);
    } catch (const std::regex_error& e) {
      // std::regex gives up (error_complexity, error_stack) on inputs that backtrack too much.
      throw_error(where(node), "matching element ", i, " (", px[i].size(),
                  " bytes) against the pattern failed: ", e.what());
    }
  }
  return {out};
}

void register_regex(OpRegistry& registry) {
  OpSchema s = string_schema("RegexFullMatch", 20, 1, 1);
  s.validate = [](const Node& node) { compile_pattern(node); };
  s.infer = [](InferContext& ctx) {
    check_string_input(ctx, 0, "X");
    ctx.set_output(0, ElementType::boolean, ctx.input_shape(0));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return regex_kernel(node, in);
  };
  registry.add(std::move(s));
}

// ---- StringSplit ---------------------------------------------------------------------------------

// The length in bytes of the whitespace character starting at s[i], or 0 when s[i] starts none. The set
// is Python's str.isspace (the ONNX reference splits with str.split): ASCII \t \n \v \f \r, the
// separators \x1c-\x1f and space, and in UTF-8 U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
// U+202F, U+205F and U+3000.
size_t space_at(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  const unsigned c = byte(i);
  if ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20)) return 1;
  if (c == 0xc2) return byte(i + 1) == 0x85 || byte(i + 1) == 0xa0 ? 2 : 0;
  if (c == 0xe1) return byte(i + 1) == 0x9a && byte(i + 2) == 0x80 ? 3 : 0;
  if (c == 0xe2) {
    const unsigned c1 = byte(i + 1), c2 = byte(i + 2);
    if (c1 == 0x80) return (c2 >= 0x80 && c2 <= 0x8a) || c2 == 0xa8 || c2 == 0xa9 || c2 == 0xaf ? 3 : 0;
    return c1 == 0x81 && c2 == 0x9f ? 3 : 0;
  }
  if (c == 0xe3) return byte(i + 1) == 0x80 && byte(i + 2) == 0x80 ? 3 : 0;
  return 0;
}

// Python's str.split(None, maxsplit) (CPython's split_whitespace); maxsplit < 0 is unlimited.
std::vector<std::string> split_whitespace(const std::string& s, int64_t maxsplit) {
  std::vector<std::string> pieces;
  const size_t n = s.size();
  size_t i = 0;
  const auto skip_spaces = [&] {
    while (i < n) {
      const size_t w = space_at(s, i);
      if (w == 0) break;
      i += w;
    }
  };
  for (int64_t splits = 0; maxsplit < 0 || splits < maxsplit; ++splits) {
    skip_spaces();
    if (i == n) break;
    const size_t begin = i;
    while (i < n && space_at(s, i) == 0) ++i;
    pieces.push_back(s.substr(begin, i - begin));
  }
  // Only reached with i < n when maxsplit ran out: the rest, without its leading whitespace, is one piece.
  skip_spaces();
  if (i < n) pieces.push_back(s.substr(i));
  return pieces;
}

// Python's str.split(delimiter, maxsplit) for a non-empty delimiter; maxsplit < 0 is unlimited.
std::vector<std::string> split_on(const std::string& s, const std::string& delimiter, int64_t maxsplit) {
  std::vector<std::string> pieces;
  size_t begin = 0;
  for (int64_t splits = 0; maxsplit < 0 || splits < maxsplit; ++splits) {
    const size_t at = s.find(delimiter, begin);
    if (at == std::string::npos) break;
    pieces.push_back(s.substr(begin, at - begin));
    begin = at + delimiter.size();
  }
  pieces.push_back(s.substr(begin));
  return pieces;
}

std::vector<Tensor> split_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& x = string_input(node, in, 0, "X");
  const std::string delimiter = node.attr_string("delimiter", "");
  const int64_t maxsplit = node.attr_int("maxsplit", -1);
  const std::string* px = x.data<std::string>();
  std::vector<std::vector<std::string>> pieces(static_cast<size_t>(x.size()));
  Tensor counts(ElementType::i64, x.shape());
  int64_t widest = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    auto& p = pieces[static_cast<size_t>(i)];
    p = delimiter.empty() ? split_whitespace(px[i], maxsplit) : split_on(px[i], delimiter, maxsplit);
    counts.data<int64_t>()[i] = static_cast<int64_t>(p.size());
    widest = std::max(widest, static_cast<int64_t>(p.size()));
  }
  Shape y_shape = x.shape();
  y_shape.push_back(widest);
  Tensor y(ElementType::string, y_shape);  // the padding: constructed empty
  std::string* py = y.data<std::string>();
  for (size_t i = 0; i < pieces.size(); ++i) {
    for (size_t k = 0; k < pieces[i].size(); ++k)
      py[i * static_cast<size_t>(widest) + k] = std::move(pieces[i][k]);
  }
  return {y, counts};
}

void register_split(OpRegistry& registry) {
  OpSchema s = string_schema("StringSplit", 20, 1, 2);
  s.infer = [](InferContext& ctx) {
    check_string_input(ctx, 0, "X");
    const PartialShape& x = ctx.input_shape(0);
    PartialShape y = x;
    if (y.rank_known()) y.dims().push_back(Dimension());  // the largest piece count: known when run
    ctx.set_output(0, ElementType::string, y);
    ctx.set_output(1, ElementType::i64, x);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return split_kernel(node, in);
  };
  registry.add(std::move(s));
}

// ---- StringNormalizer ----------------------------------------------------------------------------

// The other case of a code point from the pairs listed at the top of the file (itself when it has none).
char32_t other_case(char32_t c, bool upper) {
  const auto shift = [&](char32_t lo_first, char32_t up_first, char32_t count) -> bool {
    if (upper && c >= lo_first && c < lo_first + count) {
      c = c - lo_first + up_first;
      return true;
    }
    if (!upper && c >= up_first && c < up_first + count) {
      c = c - up_first + lo_first;
      return true;
    }
    return false;
  };
  // Latin Extended-A pairs: upper at even code points (odd ones when `odd_upper`), lower next to it.
  const auto pairs = [&](char32_t first, char32_t last, bool odd_upper) -> bool {
    if (c < first || c > last) return false;
    const bool is_upper = (c % 2 == 1) == odd_upper;
    if (upper && !is_upper) c -= 1;
    if (!upper && is_upper) c += 1;
    return true;
  };
  if (c < 0x80) {
    if (upper && c >= 'a' && c <= 'z') return c - 0x20;
    if (!upper && c >= 'A' && c <= 'Z') return c + 0x20;
    return c;
  }
  if (c == 0xd7 || c == 0xf7) return c;  // the multiplication and division signs sit inside Latin-1's run
  if (upper && c == 0xff) return 0x178;
  if (!upper && c == 0x178) return 0xff;
  if (upper && c == 0x3c2) return 0x3a3;  // final sigma
  if (c == 0x3a2) return c;               // unassigned, inside Greek's run
  // Each helper maps c when c lies in its run (the runs do not overlap); c is left alone outside all.
  (void)(shift(0xe0, 0xc0, 0x1f) || shift(0x3b1, 0x391, 0x19) || shift(0x430, 0x410, 0x20) ||
         shift(0x450, 0x400, 0x10) || pairs(0x100, 0x12f, false) || pairs(0x132, 0x137, false) ||
         pairs(0x14a, 0x177, false) || pairs(0x139, 0x148, true) || pairs(0x179, 0x17e, true));
  return c;
}

// Changes the case of a UTF-8 string. Every mapped code point is below U+0800 and maps to one below
// U+0800, so only one- and two-byte sequences change, and each keeps its length; other bytes (longer
// sequences, invalid UTF-8) are copied unchanged.
std::string change_case(std::string s, bool upper) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c0 = static_cast<unsigned char>(s[i]);
    if (c0 < 0x80) {
      s[i] = static_cast<char>(other_case(c0, upper));
      continue;
    }
    if ((c0 & 0xe0) != 0xc0 || i + 1 >= s.size()) continue;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c1 & 0xc0) != 0x80) continue;
    const char32_t mapped = other_case(static_cast<char32_t>(((c0 & 0x1fu) << 6) | (c1 & 0x3fu)), upper);
    s[i] = static_cast<char>(0xc0 | (mapped >> 6));
    s[i + 1] = static_cast<char>(0x80 | (mapped & 0x3f));
    ++i;
  }
  return s;
}

enum class CaseChange { none, lower, upper };

struct NormalizerConfig {
  CaseChange action = CaseChange::none;
  bool case_sensitive = false;
  std::vector<std::string> stopwords;  // lower-cased when not case-sensitive
};

NormalizerConfig normalizer_config(const Node& node) {
  NormalizerConfig c;
  const std::string action = node.attr_string("case_change_action", "NONE");
  if (action == "LOWER") {
    c.action = CaseChange::lower;
  } else if (action == "UPPER") {
    c.action = CaseChange::upper;
  } else {
    SLUICE_CHECK(action == "NONE", where(node), "attribute 'case_change_action' is '", action,
                 "'; expected LOWER, UPPER or NONE");
  }
  c.case_sensitive = node.attr_int("is_case_sensitive", 0) != 0;
  // 'locale' is accepted whatever it names: the case mapping is the same for every locale.
  c.stopwords = node.attr_strings("stopwords", {});
  if (!c.case_sensitive) {
    for (auto& word : c.stopwords) word = change_case(word, false);
  }
  return c;
}

// [C] or [1, C]: the only input shapes the spec allows.
bool normalizer_shape_ok(const PartialShape& x) {
  if (!x.rank_known()) return true;
  if (x.rank() == 1) return true;
  return x.rank() == 2 && x[0].accepts(1);
}

std::vector<Tensor> normalizer_kernel(const Node& node, std::span<const Tensor> in) {
  const NormalizerConfig c = normalizer_config(node);
  const Tensor& x = string_input(node, in, 0, "X");
  SLUICE_CHECK(normalizer_shape_ok(PartialShape(x.shape())), where(node), "input 'X' has shape ",
               to_string(x.shape()), "; expected [C] or [1, C]");
  std::vector<std::string> kept;
  for (const std::string& s : x.values<std::string>()) {
    const std::string key = c.case_sensitive ? s : change_case(s, false);
    if (std::find(c.stopwords.begin(), c.stopwords.end(), key) != c.stopwords.end()) continue;
    kept.push_back(c.action == CaseChange::none ? s : change_case(s, c.action == CaseChange::upper));
  }
  // All dropped: the spec's "empty value", one empty string.
  if (kept.empty()) kept.emplace_back();
  const auto count = static_cast<int64_t>(kept.size());
  Tensor out(ElementType::string, x.rank() == 2 ? Shape{1, count} : Shape{count});
  std::move(kept.begin(), kept.end(), out.data<std::string>());
  return {out};
}

void register_normalizer(OpRegistry& registry) {
  OpSchema s = string_schema("StringNormalizer", 10, 1, 1);
  s.validate = [](const Node& node) { normalizer_config(node); };
  s.infer = [](InferContext& ctx) {
    check_string_input(ctx, 0, "X");
    const PartialShape& x = ctx.input_shape(0);
    SLUICE_CHECK(normalizer_shape_ok(x), where(ctx.node), "input 'X' has shape ", x.to_string(),
                 "; expected [C] or [1, C]");
    PartialShape y = x;
    if (y.rank_known()) {
      if (y.rank() == 2) y[0] = Dimension(1);
      // Without stopwords nothing is dropped, but an empty input still becomes one empty string.
      const bool drops = !normalizer_config(ctx.node).stopwords.empty();
      Dimension& last = y[static_cast<size_t>(y.rank() - 1)];
      if (drops || last.is_dynamic()) {
        last = Dimension();
      } else if (last.extent() == 0) {
        last = Dimension(1);
      }
    }
    ctx.set_output(0, ElementType::string, y);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return normalizer_kernel(node, in);
  };
  registry.add(std::move(s));
}

}  // namespace

void register_string_ops(OpRegistry& registry) {
  register_concat(registry);
  register_regex(registry);
  register_split(registry);
  register_normalizer(registry);
}

}  // namespace sluice::ops::misc
