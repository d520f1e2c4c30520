#include "sluice/properties.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "sluice/error.hpp"

namespace sluice {

std::string_view to_string(PerformanceMode mode) {
  switch (mode) {
    case PerformanceMode::LATENCY: return "LATENCY";
    case PerformanceMode::THROUGHPUT: return "THROUGHPUT";
    case PerformanceMode::CUMULATIVE_THROUGHPUT: return "CUMULATIVE_THROUGHPUT";
  }
  return "?";
}

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::optional<int64_t> parse_int(const std::string& text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || text.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::string Any::to_string() const {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool v) const { return v ? "YES" : "NO"; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const {
      std::string s = std::to_string(v);
      return s;
    }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(const std::vector<std::string>& v) const { return join(v, ","); }
  };
  return std::visit(Visitor{}, value_);
}

template <> bool Any::as<bool>() const {
  if (auto* b = std::get_if<bool>(&value_)) return *b;
  if (auto* s = std::get_if<std::string>(&value_)) {
    const std::string u = upper(*s);
    if (u == "YES" || u == "TRUE" || u == "1" || u == "ON") return true;
    if (u == "NO" || u == "FALSE" || u == "0" || u == "OFF") return false;
  }
  if (auto* i = std::get_if<int64_t>(&value_)) {
    if (*i == 0 || *i == 1) return *i == 1;
  }
  throw_error("value '", to_string(), "' is not a boolean; expected YES/NO (or true/false)");
}

template <> int64_t Any::as<int64_t>() const {
  if (auto* i = std::get_if<int64_t>(&value_)) return *i;
  if (auto* s = std::get_if<std::string>(&value_)) {
    if (auto v = parse_int(*s)) return *v;
    if (upper(*s) == "AUTO") return props::streams_auto;
  }
  throw_error("value '", to_string(), "' is not an integer");
}

template <> double Any::as<double>() const {
  if (auto* d = std::get_if<double>(&value_)) return *d;
  if (auto* i = std::get_if<int64_t>(&value_)) return static_cast<double>(*i);
  if (auto* s = std::get_if<std::string>(&value_)) {
    try {
      size_t used = 0;
      double v = std::stod(*s, &used);
      if (used == s->size()) return v;
    } catch (const std::exception&) {
    }
  }
  throw_error("value '", to_string(), "' is not a number");
}

template <> std::string Any::as<std::string>() const { return to_string(); }

template <> std::vector<std::string> Any::as<std::vector<std::string>>() const {
  if (auto* v = std::get_if<std::vector<std::string>>(&value_)) return *v;
  if (auto* s = std::get_if<std::string>(&value_)) return split_list(*s);
  if (empty()) return {};
  throw_error("value '", to_string(), "' is not a list of strings");
}

template <> PerformanceMode Any::as<PerformanceMode>() const {
  const std::string u = upper(to_string());
  for (auto mode :
       {PerformanceMode::LATENCY, PerformanceMode::THROUGHPUT, PerformanceMode::CUMULATIVE_THROUGHPUT}) {
    if (u == sluice::to_string(mode)) return mode;
  }
  throw_error("value '", to_string(), "' is not a performance mode; expected LATENCY, THROUGHPUT or ",
              "CUMULATIVE_THROUGHPUT");
}

template <> ElementType Any::as<ElementType>() const { return parse_element_type(to_string()); }

namespace {

using Kind = PropertyInfo::Kind;

const std::vector<PropertyInfo>& property_table() {
  static const std::vector<PropertyInfo> table = {
      {"PERFORMANCE_HINT", Kind::performance_mode, false, {}},
      {"PERFORMANCE_HINT_NUM_REQUESTS", Kind::non_negative_integer, false, {}},
      {"NUM_STREAMS", Kind::streams, false, {}},
      {"INFERENCE_NUM_THREADS", Kind::non_negative_integer, false, {}},
      {"ENABLE_CPU_PINNING", Kind::boolean, false, {}},
      {"INFERENCE_PRECISION_HINT", Kind::element_type, false, {"f32", "bf16"}},
      {"ENABLE_PROFILING", Kind::boolean, false, {}},
      {"DISABLED_PASSES", Kind::string_list, false, {}},
      {"OPTIMAL_NUMBER_OF_INFER_REQUESTS", Kind::positive_integer, true, {}},
      {"SUPPORTED_PROPERTIES", Kind::string_list, true, {}},
      {"AVAILABLE_DEVICES", Kind::string_list, true, {}},
      {"FULL_DEVICE_NAME", Kind::string, true, {}},
      {"EXECUTION_DEVICES", Kind::string_list, true, {}},
      {"NETWORK_NAME", Kind::string, true, {}},
      {"OPTIMIZATION_CAPABILITIES", Kind::string_list, true, {}},
      {"WEIGHTS_BYTES", Kind::non_negative_integer, true, {}},
      {"ARENA_BYTES", Kind::non_negative_integer, true, {}},
      {"EXECUTION_KERNELS", Kind::string_list, true, {}},
      {"ALLOW_AUTO_BATCHING", Kind::boolean, false, {}},
      {"AUTO_BATCH_TIMEOUT", Kind::non_negative_integer, false, {}},
      {"LAYOUT", Kind::string_list, false, {}},
      {"OPTIMAL_BATCH_SIZE", Kind::positive_integer, true, {}},
      {"AUTO_BATCH_FULL_BATCHES", Kind::non_negative_integer, true, {}},
      {"AUTO_BATCH_TIMED_OUT", Kind::non_negative_integer, true, {}},
      {"MULTI_DEVICE_PRIORITIES", Kind::string_list, false, {}},
      {"ENABLE_STARTUP_FALLBACK", Kind::boolean, false, {}},
      {"ENABLE_RUNTIME_FALLBACK", Kind::boolean, false, {}},
      {"SERVED_REQUESTS", Kind::string_list, true, {}},
      {"DROPPED_DEVICES", Kind::string_list, true, {}},
  };
  return table;
}

}  // namespace

std::string PropertyInfo::describe_accepted() const {
  switch (kind) {
    case Kind::boolean: return "YES or NO";
    case Kind::integer: return "an integer";
    case Kind::non_negative_integer: return "an integer >= 0 (0: let the device choose)";
    case Kind::positive_integer: return "an integer >= 1";
    case Kind::streams: return "an integer >= 1, or AUTO";
    case Kind::real: return "a number";
    case Kind::string: return accepted.empty() ? "a string" : "one of: " + join(accepted, ", ");
    case Kind::string_list: return "a comma-separated list";
    case Kind::performance_mode: return "LATENCY, THROUGHPUT or CUMULATIVE_THROUGHPUT";
    case Kind::element_type: return accepted.empty() ? "an element type" : "one of: " + join(accepted, ", ");
  }
  return "?";
}

const PropertyInfo* find_property_info(std::string_view name) {
  for (const auto& info : property_table()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

Any normalize_property(const PropertyInfo& info, const Any& value) {
  try {
    switch (info.kind) {
      case Kind::boolean: return value.as<bool>();
      case Kind::integer: return value.as<int64_t>();
      case Kind::non_negative_integer:
      case Kind::positive_integer: {
        if (std::holds_alternative<std::string>(value.variant()) && upper(value.to_string()) == "AUTO") break;
        const int64_t v = value.as<int64_t>();
        if (v < (info.kind == Kind::positive_integer ? 1 : 0)) break;
        return v;
      }
      case Kind::streams: {
        const int64_t v = value.as<int64_t>();
        if (v < 1 && v != props::streams_auto) break;
        return v;
      }
      case Kind::real: return value.as<double>();
      case Kind::string: {
        const std::string s = value.as<std::string>();
        if (!info.accepted.empty() &&
            std::find(info.accepted.begin(), info.accepted.end(), s) == info.accepted.end()) {
          break;
        }
        return s;
      }
      case Kind::string_list: return value.as<std::vector<std::string>>();
      case Kind::performance_mode: return value.as<PerformanceMode>();
      case Kind::element_type: {
        const ElementType t = value.as<ElementType>();
        const std::string name(to_string(t));
        if (!info.accepted.empty() &&
            std::find(info.accepted.begin(), info.accepted.end(), name) == info.accepted.end()) {
          break;
        }
        return t;
      }
    }
  } catch (const Error&) {
  }
  throw_error("property ", info.name, ": bad value '", value.to_string(), "'; expected ",
              info.describe_accepted());
}

}  // namespace sluice
