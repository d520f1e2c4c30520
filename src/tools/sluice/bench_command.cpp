// `sluice bench`: measures inference speed in the manner of OpenVINO's benchmark_app. The run has three
// stages, kept apart so that later modes (async requests, streams, sweeps) slot in beside the first:
// prepare (read, reshape, compile, random inputs), measure (a runner: today one synchronous request) and
// report (statistics, text, JSON).
#include <sys/resource.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core.hpp"
#include "sluice/error.hpp"
#include "tools/sluice/bench_report.hpp"
#include "tools/sluice/commands.hpp"
#include "tools/sluice/default_model.hpp"
#include "tools/sluice/profile_table.hpp"
#include "tools/sluice/tensor_text.hpp"
#include "tools/sluice/tool_util.hpp"

namespace sluice::tool {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double default_time_s = 10;  // when neither -niter nor -t is given, as benchmark_app's default
constexpr const char* built_in_model = "(built-in default model)";

double milliseconds(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

// When measuring stops: after `niter` inferences or `time_s` seconds, whichever comes first (0: no limit).
struct StopCondition {
  int64_t niter = 0;
  double time_s = 0;
};

StopCondition stop_condition(const BenchOptions& options) {
  if (options.niter == 0 && options.time_s == 0) return {0, default_time_s};
  return {options.niter, options.time_s};
}

std::string describe(const StopCondition& stop) {
  std::ostringstream text;
  if (stop.niter > 0) text << stop.niter << " iterations";
  if (stop.niter > 0 && stop.time_s > 0) text << " or ";
  if (stop.time_s > 0) text << stop.time_s << " s";
  if (stop.niter > 0 && stop.time_s > 0) text << ", whichever comes first";
  return text.str();
}

// ---- prepare ----

// One -shape value: "name[1,3,224,224]" items separated by ',' ("a[1,3],b[1,4]"), or "[1,3,224,224]"
// (no name: every input). Returns (name, shape) pairs; the name is empty for every input.
std::vector<std::pair<std::string, Shape>> parse_shape_option(const std::string& text) {
  const std::string what = "-shape '" + text + "'";
  const char* expected =
      ": expected NAME[DIMS] or [DIMS] (for every input), several separated by ',', "
      "e.g. input[1,3,224,224]";
  std::vector<std::pair<std::string, Shape>> items;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('[', pos);
    size_t close = open == std::string::npos ? std::string::npos : text.find(']', open);
    SLUICE_CHECK(close != std::string::npos, what, expected);
    items.emplace_back(text.substr(pos, open - pos), parse_dims(text.substr(open, close - open + 1), what));
    pos = close + 1;
    if (pos < text.size()) {
      SLUICE_CHECK(text[pos] == ',' && pos + 1 < text.size(), what, expected);
      ++pos;
    }
  }
  SLUICE_CHECK(!items.empty(), what, expected);
  return items;
}

// Makes every input static: -shape first, then -b (dimension 0 of every input), then each dimension
// still dynamic becomes 1 (a note says so; the ONNX Runtime peer, benchmarks/ort_bench.js, does the same).
void apply_shapes(Model& model, const BenchOptions& options) {
  std::map<std::string, PartialShape> shapes;
  for (const std::string& option : options.shapes) {
    for (const auto& [name, dims] : parse_shape_option(option)) {
      if (name.empty()) {
        for (const PortInfo& port : model.inputs()) shapes.insert_or_assign(port.name, PartialShape(dims));
      } else {
        find_input(model, name, "-shape");
        shapes.insert_or_assign(name, PartialShape(dims));
      }
    }
  }
  if (!shapes.empty()) model.reshape(shapes);
  if (options.batch > 0) model.reshape_batch(options.batch);

  std::map<std::string, PartialShape> resolved;
  for (const PortInfo& port : model.inputs()) {
    if (port.shape.is_static()) continue;
    SLUICE_CHECK(port.shape.rank_known(), "input '", port.name,
                 "' has an unknown rank: give its shape with -shape ", port.name, "[DIMS]");
    PartialShape shape = port.shape;
    for (Dimension& dim : shape.dims()) {
      if (dim.is_dynamic()) dim = Dimension(1);
    }
    std::cout << "note: input '" << port.name << "' " << port.shape.to_string()
              << ": dynamic dimensions set to 1 "
              << "(give -shape or -b to choose)\n";
    resolved.emplace(port.name, shape);
  }
  if (!resolved.empty()) model.reshape(resolved);
}

// The compile properties: -p KEY=VALUE, then the benchmark_app-style flags (a property set by both is an
// error, so that a run never silently measures something other than asked).
AnyMap compile_properties(const BenchOptions& options) {
  AnyMap properties = parse_properties(options.properties);
  auto set = [&](std::string_view key, const std::string& flag, Any value) {
    std::string name(key);
    SLUICE_CHECK(!properties.count(name), flag, " and -p ", name, "=... both set ", name, ": give one");
    properties.emplace(name, std::move(value));
  };
  if (options.nthreads >= 0) set(props::inference_num_threads.name, "-nthreads", Any(options.nthreads));
  if (!options.infer_precision.empty()) {
    set(props::inference_precision_hint.name, "-infer_precision", Any(options.infer_precision));
  }
  if (!options.hint.empty() && options.hint != "none") {
    std::string mode = options.hint;
    for (char& c : mode) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    set(props::performance_hint.name, "-hint", Any(mode));
  }
  if (options.profile) set(props::enable_profiling.name, "-pc", Any(true));
  return properties;
}

// Seeded random data for every input (as `sluice run` makes it), set on the request. The tensors are
// returned because the request uses their memory.
std::vector<Tensor> set_random_inputs(InferRequest& request, const std::vector<PortInfo>& inputs,
                                      uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> tensors;
  for (const PortInfo& port : inputs) {
    Tensor tensor(port.type, port.shape.to_shape());
    fill_random(tensor, rng);
    request.set_tensor(port.name, tensor);
    tensors.push_back(tensor);
  }
  return tensors;
}

int64_t batch_of(const BenchOptions& options, const std::vector<PortInfo>& inputs) {
  if (options.batch > 0) return options.batch;
  if (inputs.empty() || inputs.front().shape.rank() < 1) return 1;
  return inputs.front().shape[0].extent();
}

// The compiled model's properties as text; one that cannot be read shows why instead.
std::vector<std::pair<std::string, std::string>> compiled_properties(const CompiledModel& compiled) {
  std::vector<std::pair<std::string, std::string>> properties;
  for (const std::string& name : compiled.get_property(props::supported_properties)) {
    if (name == props::supported_properties.name) continue;
    std::string value;
    try {
      value = compiled.get_property(name).to_string();
    } catch (const std::exception& e) {
      value = "(not readable: " + one_line(e.what()) + ")";
    }
    properties.emplace_back(name, value);
  }
  return properties;
}

// Makes the folder of the --json file and checks that the file can be written, so that a bad path fails
// now rather than after the measurement.
void check_writable(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  SLUICE_CHECK(!error, "--json ", path, ": cannot create the folder ", parent.string(), ": ",
               error.message());
  SLUICE_CHECK(std::ofstream(path), "--json ", path, ": cannot open the file for writing");
}

// ---- measure ----

struct Measurement {
  std::vector<double> latencies_ms;
  double duration_ms = 0;
};

// One request, one inference at a time: each latency is the time infer() takes; the duration runs from the
// start of the first measured inference to the end of the last.
Measurement run_sync(InferRequest& request, const StopCondition& stop) {
  Measurement measurement;
  measurement.latencies_ms.reserve(stop.niter > 0 ? static_cast<size_t>(stop.niter) : 1 << 16);
  const Clock::time_point start = Clock::now();
  while (true) {
    const Clock::time_point begin = Clock::now();
    request.infer();
    const Clock::time_point end = Clock::now();
    measurement.latencies_ms.push_back(milliseconds(end - begin));
    if (stop.niter > 0 && static_cast<int64_t>(measurement.latencies_ms.size()) >= stop.niter) break;
    if (stop.time_s > 0 && milliseconds(end - start) >= stop.time_s * 1000) break;
  }
  measurement.duration_ms = milliseconds(Clock::now() - start);
  return measurement;
}

int64_t peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // kilobytes on Linux
}

}  // namespace

int run_bench_command(const BenchOptions& options) {
  SLUICE_CHECK(options.api == "sync", "-api ", options.api,
               ": not yet supported; only -api sync (one request, one inference at a time) is");
  Core core;
  BenchReport report;
  report.model = options.model_path.empty() ? built_in_model : options.model_path;
  report.device = choose_device(core, options.device);
  report.api = options.api;
  report.seed = options.seed;
  AnyMap properties = compile_properties(options);
  const StopCondition stop = stop_condition(options);
  if (!options.json_path.empty()) check_writable(options.json_path);

  Clock::time_point start = Clock::now();
  Model model = options.model_path.empty() ? core.read_model(default_model_bytes())
                                           : core.read_model(options.model_path);
  report.read_ms = milliseconds(Clock::now() - start);
  std::cout << "model: " << report.model << "\ndevice: " << report.device << '\n';
  apply_shapes(model, options);
  start = Clock::now();
  CompiledModel compiled = core.compile_model(model, report.device, properties);
  report.compile_ms = milliseconds(Clock::now() - start);
  std::cout << std::fixed << std::setprecision(2) << "read model: " << report.read_ms
            << " ms, compile: " << report.compile_ms << " ms\n";

  report.inputs = compiled.inputs();
  report.batch = batch_of(options, report.inputs);
  InferRequest request = compiled.create_infer_request();
  std::vector<Tensor> inputs = set_random_inputs(request, report.inputs, options.seed);
  for (const PortInfo& port : report.inputs) {
    std::cout << "input " << port.name << ": " << to_string(port.type) << ' ' << port.shape.to_string()
              << " (random, seed " << options.seed << ")\n";
  }
  report.properties = compiled_properties(compiled);
  std::cout << "compiled model properties:\n";
  for (const auto& [name, value] : report.properties) std::cout << "  " << name << ": " << value << '\n';

  start = Clock::now();
  request.infer();
  report.first_inference_ms = milliseconds(Clock::now() - start);
  std::cout << "first inference (warm-up): " << report.first_inference_ms << " ms\n";
  std::cout << "measuring: " << report.api << " API, " << report.requests << " request, batch "
            << report.batch << ", " << describe(stop) << std::endl;

  Measurement measurement = run_sync(request, stop);
  report.count = static_cast<int64_t>(measurement.latencies_ms.size());
  report.duration_ms = measurement.duration_ms;
  report.latency = latency_stats(measurement.latencies_ms);
  report.throughput_fps = static_cast<double>(report.batch * report.count) / (report.duration_ms / 1000);
  report.peak_rss_kb = peak_rss_kb();

  print_results(std::cout, report);
  if (options.profile) {
    std::cout << "profile of the last inference:\n";
    print_profile_table(std::cout, request.get_profiling_info());
  }
  if (!options.json_path.empty()) {
    write_json_report(options.json_path, report);
    std::cout << "wrote " << options.json_path << '\n';
  }
  return 0;
}

}  // namespace sluice::tool
