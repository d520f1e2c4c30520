// The ai.onnx.ml operators on tensors: ArrayFeatureExtractor (ml opset 1), Binarizer (1), LabelEncoder (2
// and 4) and TreeEnsemble (5). Map-typed operators (ZipMap, DictVectorizer, CastMap) are out of scope.
//
// - ArrayFeatureExtractor: gathers the indices Y (any shape, read flat) along X's last axis; a 1-D X
//   gives [1, |Y|] (as the ONNX reference and onnxruntime do). Indices must lie in [0, C).
// - Binarizer: 1 where X > threshold, else 0 (NaN gives 0, as in the ONNX reference).
// - LabelEncoder: keys_* / values_* (and, from version 4, keys_tensor / values_tensor / default_tensor);
//   exactly one keys and one values attribute, of equal length. Float keys: NaN matches any NaN; a
//   repeated key takes its last value. Missing defaults: "_Unused", -1 or -0.0 by the values' type.
// - TreeEnsemble: interior nodes nodes_*, leaves leaf_*; a child id indexes the leaves when the matching
//   nodes_trueleafs / nodes_falseleafs flag is set, the interior nodes otherwise. A root whose two
//   children are the same leaf is a one-leaf tree. BRANCH_MEMBER nodes take, in the order they appear in
//   nodes_modes, the NaN-delimited groups of membership_values. Splits and members are rounded to X's
//   element type before comparing. MIN and MAX leave targets that no tree reaches at 0 (as onnxruntime;
//   the ONNX Python reference leaves the type's largest / lowest value there). AVERAGE divides by the
//   number of trees. PROBIT uses an exact inverse error function (onnxruntime uses an approximation).
//   nodes_hitrates is accepted and ignored.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "ops/common.hpp"

namespace sluice::ops {
namespace {

constexpr const char* kMlDomain = "ai.onnx.ml";

OpSchema ml_schema(const char* op_type, int64_t since, int inputs) {
  OpSchema s;
  s.domain = kMlDomain;
  s.op_type = op_type;
  s.since_version = since;
  s.min_inputs = inputs;
  s.max_inputs = inputs;
  return s;
}

const Tensor& required_input(const Node& node, std::span<const Tensor> in, size_t i, const char* name) {
  SLUICE_CHECK(i < in.size() && !in[i].empty(), where(node), "input '", name, "' is required but missing");
  return in[i];
}

bool is_plain_floating(ElementType t) {
  return t == ElementType::f32 || t == ElementType::f64 || t == ElementType::f16 || t == ElementType::bf16;
}

// ---- ArrayFeatureExtractor -----------------------------------------------------------------------------

void register_array_feature_extractor(OpRegistry& registry) {
  OpSchema s = ml_schema("ArrayFeatureExtractor", 1, 2);
  s.takes_strings = true;
  s.infer = [](InferContext& ctx) {
    const ElementType yt = ctx.input_type(1);
    SLUICE_CHECK(yt == ElementType::i64 || yt == ElementType::undefined, where(ctx.node),
                 "input 'Y' has element type ", to_string(yt), "; expected i64 indices");
    const PartialShape& x = ctx.input_shape(0);
    const PartialShape& y = ctx.input_shape(1);
    if (!x.rank_known()) {
      ctx.set_output(0, ctx.input_type(0), PartialShape::unknown_rank());
      return;
    }
    SLUICE_CHECK(x.rank() >= 1, where(ctx.node), "input 'X' is a scalar; expected rank 1 or more");
    Dimension count = y.is_static() ? Dimension(shape_size(y.to_shape())) : Dimension();
    std::vector<Dimension> dims;
    if (x.rank() == 1) {
      dims = {Dimension(1), count};
    } else {
      dims.assign(x.dims().begin(), x.dims().end() - 1);
      dims.push_back(count);
    }
    ctx.set_output(0, ctx.input_type(0), PartialShape(std::move(dims)));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = required_input(node, in, 0, "X");
    const Tensor& y = required_input(node, in, 1, "Y");
    SLUICE_CHECK(y.type() == ElementType::i64, where(node), "input 'Y' is a ", describe(y),
                 "; expected i64 indices");
    SLUICE_CHECK(x.rank() >= 1, where(node), "input 'X' is a scalar; expected rank 1 or more");
    const int64_t c = x.shape().back();
    const std::vector<int64_t> indices = to_int64s(y);
    const int64_t n = static_cast<int64_t>(indices.size());
    for (size_t j = 0; j < indices.size(); ++j) {
      SLUICE_CHECK(indices[j] >= 0 && indices[j] < c, where(node), "index Y[", j, "] = ", indices[j],
                   " is out of range for the last axis of X (extent ", c, ")");
    }
    Shape out_shape;
    if (x.rank() == 1) {
      out_shape = {1, n};
    } else {
      out_shape.assign(x.shape().begin(), x.shape().end() - 1);
      out_shape.push_back(n);
    }
    Tensor out(x.type(), out_shape);
    const int64_t rows = c == 0 ? shape_size(out_shape) / std::max<int64_t>(n, 1) : x.size() / c;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < n; ++j) copy_elements(x, r * c + indices[j], out, r * n + j, 1);
    }
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ---- Binarizer -----------------------------------------------------------------------------------------

void register_binarizer(OpRegistry& registry) {
  OpSchema s = ml_schema("Binarizer", 1, 1);
  s.infer = [](InferContext& ctx) {
    const ElementType t = ctx.input_type(0);
    SLUICE_CHECK(t == ElementType::undefined || is_plain_floating(t) || is_integer(t), where(ctx.node),
                 "input 'X' has element type ", to_string(t), "; expected a numeric type");
    infer_same_as_input(ctx);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = required_input(node, in, 0, "X");
    const double threshold = node.attr_float("threshold", 0.0f);
    Tensor out(x.type(), x.shape());
    dispatch_numeric(x.type(), where(node) + "input 'X'", [&](auto tag) {
      using T = decltype(tag);
      using C = compute_t<T>;
      const T* px = x.data<T>();
      T* po = out.data<T>();
      for (int64_t i = 0; i < x.size(); ++i) {
        po[i] = static_cast<double>(static_cast<C>(px[i])) > threshold ? T(C(1)) : T(C(0));
      }
    });
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ---- LabelEncoder --------------------------------------------------------------------------------------

bool label_type_ok(ElementType t) {
  return t == ElementType::string || t == ElementType::i64 || t == ElementType::f32 ||
         t == ElementType::i32 || t == ElementType::i16 || t == ElementType::f64;
}

// The keys, values and default of a LabelEncoder node, checked.
struct LabelTable {
  Tensor keys;
  Tensor values;
  Tensor fallback;  // one element of the values' type
};

// Reads the one attribute of keys_* (or values_*) that is set; `prefix` is "keys" or "values".
Tensor label_attribute(const Node& node, const std::string& prefix, bool tensors) {
  std::vector<std::string> set;
  for (const char* suffix : {"_strings", "_int64s", "_floats", "_tensor"}) {
    if (std::string(suffix) == "_tensor" && !tensors) continue;
    if (node.has_attr(prefix + suffix)) set.push_back(prefix + suffix);
  }
  if (set.size() != 1) {
    std::string names;
    for (const auto& n : set) names += (names.empty() ? "" : ", ") + n;
    throw_error(where(node), "exactly one of the ", prefix, "_* attributes must be set (", prefix,
                "_strings, ", prefix, "_int64s, ", prefix, "_floats",
                tensors ? ", " + prefix + "_tensor" : "", "); found ",
                set.empty() ? std::string("none") : names);
  }
  const std::string& name = set[0];
  Tensor t;
  if (name.ends_with("_strings")) {
    const auto v = node.attr_strings(name);
    t = Tensor::from<std::string>({static_cast<int64_t>(v.size())}, std::span(v));
  } else if (name.ends_with("_int64s")) {
    const auto v = node.attr_ints(name);
    t = Tensor::from<int64_t>({static_cast<int64_t>(v.size())}, std::span(v));
  } else if (name.ends_with("_floats")) {
    const auto v = node.attr_floats(name);
    t = Tensor::from<float>({static_cast<int64_t>(v.size())}, std::span(v));
  } else {
    t = node.attr_tensor(name);
    SLUICE_CHECK(label_type_ok(t.type()), where(node), "attribute '", name, "' has element type ",
                 to_string(t.type()), "; expected string, i64, i32, i16, f32 or f64");
    SLUICE_CHECK(t.rank() == 1, where(node), "attribute '", name, "' has shape ", to_string(t.shape()),
                 "; expected a 1-D tensor");
  }
  return t;
}

Tensor default_for(ElementType type) {
  switch (type) {
    case ElementType::string: return Tensor::from<std::string>({1}, {std::string("_Unused")});
    case ElementType::f32: return Tensor::from<float>({1}, {-0.0f});
    case ElementType::f64: return Tensor::from<double>({1}, {-0.0});
    case ElementType::i64: return Tensor::from<int64_t>({1}, {int64_t{-1}});
    case ElementType::i32: return Tensor::from<int32_t>({1}, {int32_t{-1}});
    case ElementType::i16: return Tensor::from<int16_t>({1}, {int16_t{-1}});
    default: break;
  }
  throw_error("LabelEncoder: no default for element type ", to_string(type));
}

LabelTable label_table(const Node& node) {
  const bool tensors = node.schema != nullptr ? node.schema->since_version >= 4 : node.opset_version >= 4;
  LabelTable table;
  table.keys = label_attribute(node, "keys", tensors);
  table.values = label_attribute(node, "values", tensors);
  SLUICE_CHECK(table.keys.size() == table.values.size(), where(node), "the keys attribute has ",
               table.keys.size(), " elements and the values attribute ", table.values.size(),
               "; they must have the same length");
  const ElementType vt = table.values.type();
  if (tensors && node.has_attr("default_tensor")) {
    table.fallback = node.attr_tensor("default_tensor");
    SLUICE_CHECK(table.fallback.type() == vt && table.fallback.size() == 1, where(node),
                 "attribute 'default_tensor' is a ", describe(table.fallback), "; expected one ",
                 to_string(vt), " element (the values' type)");
  } else if (vt == ElementType::string && node.has_attr("default_string")) {
    table.fallback = Tensor::from<std::string>({1}, {node.attr_string("default_string")});
  } else if (vt == ElementType::i64 && node.has_attr("default_int64")) {
    table.fallback = Tensor::from<int64_t>({1}, {node.attr_int("default_int64")});
  } else if (vt == ElementType::f32 && node.has_attr("default_float")) {
    table.fallback = Tensor::from<float>({1}, {node.attr_float("default_float")});
  } else {
    table.fallback = default_for(vt);
  }
  return table;
}

// Looks input elements up among the keys: the index of the (last) equal key, or -1.
class KeyIndex {
 public:
  explicit KeyIndex(const Tensor& keys) : type_(keys.type()) {
    for (int64_t i = 0; i < keys.size(); ++i) {
      if (type_ == ElementType::string) {
        strings_.insert_or_assign(keys.data<std::string>()[i], i);
      } else if (is_integer(type_)) {
        ints_.insert_or_assign(static_cast<int64_t>(element_as_double(keys, i)), i);
      } else {
        const double v = element_as_double(keys, i);
        if (std::isnan(v)) {
          nan_ = i;
        } else {
          floats_.insert_or_assign(v, i);
        }
      }
    }
    if (is_integer(type_)) {  // doubles would round i64 keys beyond 2^53
      ints_.clear();
      const std::vector<int64_t> v = to_int64s(keys);
      for (size_t i = 0; i < v.size(); ++i) ints_.insert_or_assign(v[i], static_cast<int64_t>(i));
    }
  }
  // Looks up every element of x.
  std::vector<int64_t> find_all(const Tensor& x) const {
    std::vector<int64_t> out(static_cast<size_t>(x.size()), -1);
    if (type_ == ElementType::string) {
      const std::string* p = x.data<std::string>();
      for (size_t i = 0; i < out.size(); ++i) out[i] = lookup(strings_, p[i]);
    } else if (is_integer(type_)) {
      const std::vector<int64_t> v = to_int64s(x);
      for (size_t i = 0; i < out.size(); ++i) out[i] = lookup(ints_, v[i]);
    } else {
      const std::vector<double> v = to_doubles(x);
      for (size_t i = 0; i < out.size(); ++i) out[i] = std::isnan(v[i]) ? nan_ : lookup(floats_, v[i]);
    }
    return out;
  }

 private:
  template <class M, class K> static int64_t lookup(const M& map, const K& key) {
    auto it = map.find(key);
    return it == map.end() ? -1 : it->second;
  }
  ElementType type_;
  std::unordered_map<std::string, int64_t> strings_;
  std::unordered_map<int64_t, int64_t> ints_;
  std::unordered_map<double, int64_t> floats_;  // -0.0 and 0.0 hash and compare equal
  int64_t nan_ = -1;
};

void register_label_encoder(OpRegistry& registry, int64_t since) {
  OpSchema s = ml_schema("LabelEncoder", since, 1);
  s.takes_strings = true;
  s.validate = [](const Node& node) { label_table(node); };
  s.infer = [](InferContext& ctx) {
    const LabelTable table = label_table(ctx.node);
    const ElementType xt = ctx.input_type(0);
    SLUICE_CHECK(xt == ElementType::undefined || xt == table.keys.type(), where(ctx.node),
                 "input 'X' has element type ", to_string(xt), " but the keys are ",
                 to_string(table.keys.type()), "; they must agree");
    ctx.set_output(0, table.values.type(), ctx.input_shape(0));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = required_input(node, in, 0, "X");
    const LabelTable table = label_table(node);
    SLUICE_CHECK(x.type() == table.keys.type(), where(node), "input 'X' is a ", describe(x),
                 " but the keys are ", to_string(table.keys.type()), "; they must agree");
    const std::vector<int64_t> found = KeyIndex(table.keys).find_all(x);
    Tensor out(table.values.type(), x.shape());
    for (size_t i = 0; i < found.size(); ++i) {
      const int64_t o = static_cast<int64_t>(i);
      if (found[i] >= 0) {
        copy_elements(table.values, found[i], out, o, 1);
      } else {
        copy_elements(table.fallback, 0, out, o, 1);
      }
    }
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ---- TreeEnsemble --------------------------------------------------------------------------------------

enum class Mode : uint8_t { leq = 0, lt, gte, gt, eq, neq, member };
enum class Aggregate : int64_t { average = 0, sum, min, max };
enum class Post : int64_t { none = 0, softmax, logistic, softmax_zero, probit };

struct Ensemble {
  // Interior nodes.
  std::vector<int64_t> feature, true_id, false_id;
  std::vector<bool> true_leaf, false_leaf, missing_true;
  std::vector<Mode> mode;
  std::vector<double> split;
  std::vector<std::vector<double>> members;  // sorted, per BRANCH_MEMBER node
  // Leaves.
  std::vector<int64_t> leaf_target;
  std::vector<double> leaf_weight;
  std::vector<int64_t> roots;
  int64_t n_targets = 0;
  Aggregate aggregate = Aggregate::sum;
  Post post = Post::none;
};

std::vector<bool> flags(const std::vector<int64_t>& v) {
  std::vector<bool> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] != 0;
  return out;
}

// Reads and checks a TreeEnsemble node's attributes.
Ensemble parse_ensemble(const Node& node) {
  Ensemble e;
  const auto tensor_doubles = [&](const char* name) {
    const Tensor t = node.attr_tensor(name);
    SLUICE_CHECK(is_plain_floating(t.type()), where(node), "attribute '", name, "' has element type ",
                 to_string(t.type()), "; expected a floating type");
    return to_doubles(t);
  };
  e.feature = node.attr_ints("nodes_featureids");
  e.true_id = node.attr_ints("nodes_truenodeids");
  e.false_id = node.attr_ints("nodes_falsenodeids");
  e.true_leaf = flags(node.attr_ints("nodes_trueleafs"));
  e.false_leaf = flags(node.attr_ints("nodes_falseleafs"));
  e.split = tensor_doubles("nodes_splits");
  const Tensor modes = node.attr_tensor("nodes_modes");
  SLUICE_CHECK(is_integer(modes.type()), where(node), "attribute 'nodes_modes' has element type ",
               to_string(modes.type()), "; expected u8");
  const std::vector<int64_t> mode_codes = to_int64s(modes);
  const size_t n = e.feature.size();
  const auto check_length = [&](const char* name, size_t size) {
    SLUICE_CHECK(size == n, where(node), "attribute '", name, "' has ", size,
                 " elements but 'nodes_featureids' has ", n,
                 "; every nodes_* attribute must have one element "
                 "per interior node");
  };
  check_length("nodes_truenodeids", e.true_id.size());
  check_length("nodes_falsenodeids", e.false_id.size());
  check_length("nodes_trueleafs", e.true_leaf.size());
  check_length("nodes_falseleafs", e.false_leaf.size());
  check_length("nodes_splits", e.split.size());
  check_length("nodes_modes", mode_codes.size());
  e.missing_true = flags(node.attr_ints("nodes_missing_value_tracks_true", std::vector<int64_t>(n, 0)));
  check_length("nodes_missing_value_tracks_true", e.missing_true.size());
  if (node.has_attr("nodes_hitrates"))
    check_length("nodes_hitrates", shape_size(node.attr_tensor("nodes_hitrates").shape()));

  e.leaf_target = node.attr_ints("leaf_targetids");
  e.leaf_weight = tensor_doubles("leaf_weights");
  SLUICE_CHECK(e.leaf_target.size() == e.leaf_weight.size(), where(node), "attribute 'leaf_targetids' has ",
               e.leaf_target.size(), " elements but 'leaf_weights' has ", e.leaf_weight.size(),
               "; every leaf_* attribute must have one element per leaf");
  const int64_t leaves = static_cast<int64_t>(e.leaf_target.size());
  int64_t max_target = -1;
  for (int64_t t : e.leaf_target) max_target = std::max(max_target, t);
  e.n_targets = node.attr_int("n_targets", max_target + 1);
  SLUICE_CHECK(e.n_targets >= 1, where(node), "attribute 'n_targets' is ", e.n_targets, "; expected >= 1");
  for (size_t i = 0; i < e.leaf_target.size(); ++i) {
    SLUICE_CHECK(e.leaf_target[i] >= 0 && e.leaf_target[i] < e.n_targets, where(node), "leaf_targetids[", i,
                 "] = ", e.leaf_target[i], " is out of range [0, ", e.n_targets, ")");
  }

  e.mode.resize(n);
  size_t member_nodes = 0;
  for (size_t i = 0; i < n; ++i) {
    SLUICE_CHECK(
        mode_codes[i] >= 0 && mode_codes[i] <= 6, where(node), "nodes_modes[", i, "] = ", mode_codes[i],
        " is not a node mode; expected 0-6 (BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, "
        "BRANCH_NEQ, BRANCH_MEMBER)");
    e.mode[i] = static_cast<Mode>(mode_codes[i]);
    if (e.mode[i] == Mode::member) ++member_nodes;
    SLUICE_CHECK(e.feature[i] >= 0, where(node), "nodes_featureids[", i, "] = ", e.feature[i],
                 " is negative");
    const auto check_child = [&](const char* name, int64_t id, bool leaf) {
      const int64_t limit = leaf ? leaves : static_cast<int64_t>(n);
      SLUICE_CHECK(id >= 0 && id < limit, where(node), name, "[", i, "] = ", id, " is out of range [0, ",
                   limit, ") of the ", leaf ? "leaves" : "interior nodes");
    };
    check_child("nodes_truenodeids", e.true_id[i], e.true_leaf[i]);
    check_child("nodes_falsenodeids", e.false_id[i], e.false_leaf[i]);
  }

  // membership_values: one NaN-terminated group per BRANCH_MEMBER node, in nodes_modes order (a last group
  // without its NaN is accepted).
  e.members.resize(n);
  std::vector<std::vector<double>> groups;
  if (node.has_attr("membership_values")) {
    std::vector<double> group;
    bool open = false;
    for (double v : tensor_doubles("membership_values")) {
      if (std::isnan(v)) {
        groups.push_back(std::move(group));
        group.clear();
        open = false;
      } else {
        group.push_back(v);
        open = true;
      }
    }
    if (open) groups.push_back(std::move(group));
  }
  SLUICE_CHECK(groups.size() == member_nodes, where(node), "attribute 'membership_values' holds ",
               groups.size(), " NaN-delimited groups but nodes_modes has ", member_nodes,
               " BRANCH_MEMBER nodes; expected one group per BRANCH_MEMBER node");
  for (size_t i = 0, g = 0; i < n; ++i) {
    if (e.mode[i] != Mode::member) continue;
    e.members[i] = std::move(groups[g++]);
    std::sort(e.members[i].begin(), e.members[i].end());
  }

  e.roots = node.attr_ints("tree_roots");
  SLUICE_CHECK(!e.roots.empty(), where(node), "attribute 'tree_roots' is empty; expected at least one tree");
  for (size_t t = 0; t < e.roots.size(); ++t) {
    SLUICE_CHECK(e.roots[t] >= 0 && e.roots[t] < static_cast<int64_t>(n), where(node), "tree_roots[", t,
                 "] = ", e.roots[t], " is out of range [0, ", n, ") of the interior nodes");
  }
  const int64_t aggregate = node.attr_int("aggregate_function", 1);
  SLUICE_CHECK(aggregate >= 0 && aggregate <= 3, where(node), "attribute 'aggregate_function' is ", aggregate,
               "; expected 0-3 (AVERAGE, SUM, MIN, MAX)");
  e.aggregate = static_cast<Aggregate>(aggregate);
  const int64_t post = node.attr_int("post_transform", 0);
  SLUICE_CHECK(post >= 0 && post <= 4, where(node), "attribute 'post_transform' is ", post,
               "; expected 0-4 (NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT)");
  e.post = static_cast<Post>(post);
  return e;
}

// v rounded to the element type X is compared in.
double round_to(ElementType type, double v) {
  switch (type) {
    case ElementType::f32: return static_cast<float>(v);
    case ElementType::f16: return static_cast<float>(float16(static_cast<float>(v)));
    case ElementType::bf16: return static_cast<float>(bfloat16(static_cast<float>(v)));
    default: return v;
  }
}

// The inverse error function: a rational first guess refined by Newton steps on std::erf.
double erfinv(double y) {
  if (y <= -1) return -std::numeric_limits<double>::infinity();
  if (y >= 1) return std::numeric_limits<double>::infinity();
  const double w = -std::log((1 - y) * (1 + y));
  const double a = 0.147;  // Winitzki's approximation, within 2e-3
  const double t = 2 / (M_PI * a) - w / 2;
  double x = std::copysign(std::sqrt(std::sqrt(t * t + w / a) - t), y);
  for (int i = 0; i < 4; ++i) {
    const double err = std::erf(x) - y;
    x -= err / (2 / std::sqrt(M_PI) * std::exp(-x * x));
  }
  return x;
}

void post_transform(Post post, std::vector<double>& v) {
  switch (post) {
    case Post::none: return;
    case Post::logistic:
      for (double& x : v) x = 1 / (1 + std::exp(-x));
      return;
    case Post::probit:
      for (double& x : v) x = std::sqrt(2.0) * erfinv(2 * x - 1);
      return;
    case Post::softmax:
    case Post::softmax_zero: {
      // SOFTMAX_ZERO leaves zero scores at zero and normalizes the others among themselves.
      const bool zero = post == Post::softmax_zero;
      double top = -std::numeric_limits<double>::infinity();
      for (double x : v) top = std::max(top, x);
      double sum = 0;
      for (double& x : v) {
        x = zero && x == 0 ? 0 : std::exp(x - top);
        sum += x;
      }
      if (sum > 0)
        for (double& x : v) x /= sum;
      return;
    }
  }
}

// The leaf a row of features reaches in the tree rooted at interior node `root`.
int64_t find_leaf(const Node& node, const Ensemble& e, const double* x, int64_t features, int64_t root,
                  ElementType type) {
  if (e.true_leaf[root] && e.false_leaf[root] && e.true_id[root] == e.false_id[root]) return e.true_id[root];
  int64_t i = root;
  for (size_t steps = 0; steps <= e.feature.size(); ++steps) {
    SLUICE_CHECK(e.feature[i] < features, where(node), "nodes_featureids[", i, "] = ", e.feature[i],
                 " is out of range for X's ", features, " features");
    const double v = x[e.feature[i]];
    bool go_true;
    if (std::isnan(v) && e.missing_true[i]) {
      go_true = true;
    } else {
      const double s = round_to(type, e.split[i]);
      switch (e.mode[i]) {
        case Mode::leq: go_true = v <= s; break;
        case Mode::lt: go_true = v < s; break;
        case Mode::gte: go_true = v >= s; break;
        case Mode::gt: go_true = v > s; break;
        case Mode::eq: go_true = v == s; break;
        case Mode::neq: go_true = v != s; break;
        case Mode::member:
        default:
          go_true = std::any_of(e.members[i].begin(), e.members[i].end(),
                                [&](double m) { return round_to(type, m) == v; });
          break;
      }
    }
    const int64_t next = go_true ? e.true_id[i] : e.false_id[i];
    if (go_true ? e.true_leaf[i] : e.false_leaf[i]) return next;
    i = next;
  }
  throw_error(where(node), "the tree rooted at interior node ", root, " has a cycle");
}

std::vector<Tensor> tree_ensemble_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& x = required_input(node, in, 0, "X");
  SLUICE_CHECK(is_plain_floating(x.type()), where(node), "input 'X' is a ", describe(x),
               "; expected f32, f64 or f16");
  SLUICE_CHECK(x.rank() == 2, where(node), "input 'X' has shape ", to_string(x.shape()), "; expected [N, F]");
  const Ensemble e = parse_ensemble(node);
  const int64_t rows = x.shape()[0], features = x.shape()[1];
  const std::vector<double> xs = to_doubles(x);
  std::vector<double> result(static_cast<size_t>(rows * e.n_targets));
  std::vector<double> acc(static_cast<size_t>(e.n_targets));
  std::vector<bool> hit(acc.size());
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(acc.begin(), acc.end(), 0.0);
    std::fill(hit.begin(), hit.end(), false);
    for (int64_t root : e.roots) {
      const int64_t leaf = find_leaf(node, e, xs.data() + r * features, features, root, x.type());
      const size_t t = static_cast<size_t>(e.leaf_target[leaf]);
      const double w = e.leaf_weight[leaf];
      switch (e.aggregate) {
        case Aggregate::average:
        case Aggregate::sum: acc[t] += w; break;
        case Aggregate::min: acc[t] = hit[t] ? std::min(acc[t], w) : w; break;
        case Aggregate::max: acc[t] = hit[t] ? std::max(acc[t], w) : w; break;
      }
      hit[t] = true;
    }
    if (e.aggregate == Aggregate::average) {
      for (double& a : acc) a /= static_cast<double>(e.roots.size());
    }
    post_transform(e.post, acc);
    std::copy(acc.begin(), acc.end(), result.begin() + r * e.n_targets);
  }
  Tensor out(x.type(), {rows, e.n_targets});
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    T* po = out.data<T>();
    for (size_t i = 0; i < result.size(); ++i) po[i] = T(static_cast<compute_t<T>>(result[i]));
  });
  return {out};
}

void register_tree_ensemble(OpRegistry& registry) {
  OpSchema s = ml_schema("TreeEnsemble", 5, 1);
  s.validate = [](const Node& node) { parse_ensemble(node); };
  s.infer = [](InferContext& ctx) {
    const ElementType t = ctx.input_type(0);
    SLUICE_CHECK(t == ElementType::undefined || is_plain_floating(t), where(ctx.node),
                 "input 'X' has element type ", to_string(t), "; expected f32, f64 or f16");
    const PartialShape& x = ctx.input_shape(0);
    SLUICE_CHECK(!x.rank_known() || x.rank() == 2, where(ctx.node), "input 'X' has shape ", x.to_string(),
                 "; expected [N, F]");
    const Ensemble e = parse_ensemble(ctx.node);
    if (x.rank_known() && x[1].is_static()) {
      for (size_t i = 0; i < e.feature.size(); ++i) {
        SLUICE_CHECK(e.feature[i] < x[1].extent(), where(ctx.node), "nodes_featureids[", i,
                     "] = ", e.feature[i], " is out of range for X's ", x[1].extent(), " features");
      }
    }
    const Dimension rows = x.rank_known() ? x[0] : Dimension();
    ctx.set_output(0, t, PartialShape({rows, Dimension(e.n_targets)}));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return tree_ensemble_kernel(node, in);
  };
  registry.add(std::move(s));
}

}  // namespace

}  // namespace sluice::ops

namespace sluice::graph {

void register_ml_ops(OpRegistry& registry) {
  ops::register_array_feature_extractor(registry);
  ops::register_binarizer(registry);
  ops::register_label_encoder(registry, 2);
  ops::register_label_encoder(registry, 4);
  ops::register_tree_ensemble(registry);
}

}  // namespace sluice::graph
