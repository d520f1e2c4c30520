// Properties: typed keys whose string names follow OpenVINO's, values that can also be given as strings.
//
//   auto compiled = core.compile_model(model, "CPU", {props::performance_hint(PerformanceMode::THROUGHPUT),
//                                                      props::num_streams(4)});
//   int64_t streams = compiled.get_property(props::num_streams);
//   core.set_property("CPU", {{"NUM_STREAMS", "AUTO"}});  // strings work too
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/element_type.hpp"

namespace sluice {

enum class PerformanceMode { LATENCY, THROUGHPUT, CUMULATIVE_THROUGHPUT };
std::string_view to_string(PerformanceMode mode);

// A property value: nothing, a bool, an integer, a real, a string or a list of strings. Enumerations are
// held as their names. Values given as strings are converted to the property's type when validated.
class Any {
 public:
  using Variant = std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<std::string>>;
  Any() = default;
  Any(bool v) : value_(v) {}  // NOLINT(google-explicit-constructor): values convert implicitly
  Any(int v) : value_(static_cast<int64_t>(v)) {}                        // NOLINT
  Any(int64_t v) : value_(v) {}                                          // NOLINT
  Any(uint32_t v) : value_(static_cast<int64_t>(v)) {}                   // NOLINT
  Any(uint64_t v) : value_(static_cast<int64_t>(v)) {}                   // NOLINT
  Any(double v) : value_(v) {}                                           // NOLINT
  Any(const char* v) : value_(std::string(v)) {}                         // NOLINT
  Any(std::string v) : value_(std::move(v)) {}                           // NOLINT
  Any(std::string_view v) : value_(std::string(v)) {}                    // NOLINT
  Any(std::vector<std::string> v) : value_(std::move(v)) {}              // NOLINT
  Any(PerformanceMode v) : value_(std::string(sluice::to_string(v))) {}  // NOLINT
  Any(ElementType v) : value_(std::string(sluice::to_string(v))) {}      // NOLINT

  bool empty() const { return std::holds_alternative<std::monostate>(value_); }
  const Variant& variant() const { return value_; }
  // Human-readable form; lists are comma-separated. Parsing this string back gives the same value.
  std::string to_string() const;

  // Typed reads; throw sluice::Error naming the held value when it does not convert.
  template <class T> T as() const;

  bool operator==(const Any& other) const { return value_ == other.value_; }

 private:
  Variant value_;
};

template <> bool Any::as<bool>() const;
template <> int64_t Any::as<int64_t>() const;
template <> double Any::as<double>() const;
template <> std::string Any::as<std::string>() const;
template <> std::vector<std::string> Any::as<std::vector<std::string>>() const;
template <> PerformanceMode Any::as<PerformanceMode>() const;
template <> ElementType Any::as<ElementType>() const;

using AnyMap = std::map<std::string, Any>;

namespace props {

enum class Access { read_write, read_only };

// A typed key. `key(value)` makes a {name, value} pair for a property map; `key.name` is the string name.
template <class T, Access A = Access::read_write> struct Property {
  std::string_view name;
  using value_type = T;
  static constexpr Access access = A;
  std::pair<std::string, Any> operator()(T value) const requires(A == Access::read_write) {
    return {std::string(name), Any(std::move(value))};
  }
};

// Streams: a count, or AUTO (-1) to let the device choose.
inline constexpr int64_t streams_auto = -1;

inline constexpr Property<PerformanceMode> performance_hint{"PERFORMANCE_HINT"};
inline constexpr Property<int64_t> performance_hint_num_requests{"PERFORMANCE_HINT_NUM_REQUESTS"};
inline constexpr Property<int64_t> num_streams{"NUM_STREAMS"};
// Threads over all streams (0: the device chooses from the hint).
inline constexpr Property<int64_t> inference_num_threads{"INFERENCE_NUM_THREADS"};
// Whether the CPU device pins each stream's threads to its own cores (default YES).
inline constexpr Property<bool> enable_cpu_pinning{"ENABLE_CPU_PINNING"};
inline constexpr Property<ElementType> inference_precision_hint{"INFERENCE_PRECISION_HINT"};
inline constexpr Property<bool> enable_profiling{"ENABLE_PROFILING"};
inline constexpr Property<int64_t, Access::read_only> optimal_number_of_infer_requests{
    "OPTIMAL_NUMBER_OF_INFER_REQUESTS"};
inline constexpr Property<std::vector<std::string>, Access::read_only> supported_properties{
    "SUPPORTED_PROPERTIES"};
inline constexpr Property<std::vector<std::string>, Access::read_only> available_devices{"AVAILABLE_DEVICES"};
inline constexpr Property<std::string, Access::read_only> full_device_name{"FULL_DEVICE_NAME"};
inline constexpr Property<std::vector<std::string>, Access::read_only> execution_devices{"EXECUTION_DEVICES"};
inline constexpr Property<std::string, Access::read_only> model_name{"NETWORK_NAME"};
inline constexpr Property<std::vector<std::string>, Access::read_only> device_capabilities{
    "OPTIMIZATION_CAPABILITIES"};
// Memory of a compiled model: bytes of weights as the device holds them (packed, once for all streams),
// and bytes of one stream's working memory (the largest arena of its execution plans so far; each stream
// has its own, whatever the number of requests).
inline constexpr Property<int64_t, Access::read_only> weights_bytes{"WEIGHTS_BYTES"};
inline constexpr Property<int64_t, Access::read_only> arena_bytes{"ARENA_BYTES"};
// The CPU device's kernel per node of a compiled model's execution plan (the latest one used; a model with
// static input shapes is planned at compile, others at their first inference): "NODE (OP_TYPE): IMPL", IMPL
// as the profile's exec type ("ref": the reference-kernel fallback). Nodes as planned: after fusion
// (sluice FusedConv, FusedMatMul) and constant folding. Empty before the first plan.
inline constexpr Property<std::vector<std::string>, Access::read_only> execution_kernels{"EXECUTION_KERNELS"};
// Automatic batching (the BATCH device, docs/batching.md). ALLOW_AUTO_BATCHING (default YES): a
// THROUGHPUT compile on a device whose OPTIMAL_BATCH_SIZE for the model is above 1 goes through BATCH.
// AUTO_BATCH_TIMEOUT: milliseconds a partial batch waits for more requests before they run unbatched.
// OPTIMAL_BATCH_SIZE: on a device's compiled model, the batch batching this model would best use; on a
// BATCH compiled model, its batch. LAYOUT: where the batch dimension is, per port: "name:NCHW" entries (or
// one bare layout for every port), 'N' marking the batch; without it, dimension 0.
inline constexpr Property<bool> allow_auto_batching{"ALLOW_AUTO_BATCHING"};
inline constexpr Property<int64_t> auto_batch_timeout{"AUTO_BATCH_TIMEOUT"};
inline constexpr Property<std::vector<std::string>> layout{"LAYOUT"};
inline constexpr Property<int64_t, Access::read_only> optimal_batch_size{"OPTIMAL_BATCH_SIZE"};
// BATCH counters: batches that ran full, and requests that waited out the timeout and ran unbatched.
inline constexpr Property<int64_t, Access::read_only> auto_batch_full_batches{"AUTO_BATCH_FULL_BATCHES"};
inline constexpr Property<int64_t, Access::read_only> auto_batch_timed_out{"AUTO_BATCH_TIMED_OUT"};
// MULTI and AUTO (docs/multi-device.md). MULTI_DEVICE_PRIORITIES: the devices in priority order ("CPU(4)",
// "REF"), for a device string without them. ENABLE_STARTUP_FALLBACK (AUTO, default YES): run on the CPU
// while the preferred device compiles. ENABLE_RUNTIME_FALLBACK (AUTO, default YES): run a request that
// failed on one device again on another. SERVED_REQUESTS: requests each device has completed ("CPU:120").
// DROPPED_DEVICES: the listed devices that failed to compile the model, with why.
inline constexpr Property<std::vector<std::string>> multi_device_priorities{"MULTI_DEVICE_PRIORITIES"};
inline constexpr Property<bool> enable_startup_fallback{"ENABLE_STARTUP_FALLBACK"};
inline constexpr Property<bool> enable_runtime_fallback{"ENABLE_RUNTIME_FALLBACK"};
inline constexpr Property<std::vector<std::string>, Access::read_only> served_requests{"SERVED_REQUESTS"};
inline constexpr Property<std::vector<std::string>, Access::read_only> dropped_devices{"DROPPED_DEVICES"};
// Graph passes to switch off at compile time, by name (comma-separated when given as a string).
inline constexpr Property<std::vector<std::string>> disabled_passes{"DISABLED_PASSES"};

}  // namespace props

// Describes a known property: its name, whether it can be set, its value type and accepted values.
struct PropertyInfo {
  enum class Kind {
    boolean,
    integer,
    non_negative_integer,
    positive_integer,
    streams,
    real,
    string,
    string_list,
    performance_mode,
    element_type
  };
  std::string name;
  Kind kind = Kind::string;
  bool read_only = false;
  // For element_type: the accepted types (empty: any). For string: the accepted strings (empty: any).
  std::vector<std::string> accepted;
  std::string describe_accepted() const;  // "LATENCY, THROUGHPUT, CUMULATIVE_THROUGHPUT", ...
};

// The registry of properties that the runtime knows. Devices declare which of these they support.
const PropertyInfo* find_property_info(std::string_view name);

// Validates a value for a property and returns it in its canonical type (strings are parsed: "4",
// "AUTO", "true", "bf16", ...). Throws sluice::Error naming the property and listing what is accepted.
Any normalize_property(const PropertyInfo& info, const Any& value);

}  // namespace sluice
