// `sluice bench`: measures inference speed in the manner of OpenVINO's benchmark_app. A run has three
// stages: prepare (reshape, compile, requests with random inputs), measure (bench_runner: -nireq requests
// kept busy with start_async and callbacks, or one thread per request calling infer()) and report
// (bench_report: statistics, text, JSON). The command runs once per -hint, or a grid of configurations
// with --sweep (bench_sweep.cpp).
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core.hpp"
#include "sluice/error.hpp"
#include "tools/sluice/bench_report.hpp"
#include "tools/sluice/bench_runner.hpp"
#include "tools/sluice/bench_session.hpp"
#include "tools/sluice/commands.hpp"
#include "tools/sluice/default_model.hpp"
#include "tools/sluice/profile_table.hpp"
#include "tools/sluice/sim_device.hpp"
#include "tools/sluice/tensor_text.hpp"
#include "tools/sluice/tool_util.hpp"

namespace sluice::tool {
namespace {

constexpr double default_time_s = 10;  // when neither -niter nor -t is given, as benchmark_app's default
constexpr double sweep_time_s = 3;     // the same for each configuration of a sweep
constexpr const char* built_in_model = "(built-in default model)";

double milliseconds(BenchClock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

StopCondition stop_condition(const BenchOptions& options) {
  if (options.niter == 0 && options.time_s == 0) return {0, options.sweep ? sweep_time_s : default_time_s};
  return {options.niter, options.time_s};
}

// The -hint list: items separated by ',', each latency, throughput, cumulative_throughput or none (any
// case), none repeated. Empty (not given): benchmark_app's default, throughput for async and latency for
// sync.
std::vector<std::string> parse_hints(const BenchOptions& options) {
  if (options.hint.empty()) return {options.api == "async" ? "throughput" : "latency"};
  static const std::set<std::string> known = {"latency", "throughput", "cumulative_throughput", "none"};
  std::vector<std::string> hints;
  std::string text = options.hint;
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t pos = 0;
  while (true) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    std::string item = text.substr(pos, comma - pos);
    SLUICE_CHECK(known.count(item), "-hint '", options.hint, "': '", item,
                 "' is not a hint; expected latency, throughput, cumulative_throughput or none, several "
                 "separated by ',' (e.g. -hint latency,throughput)");
    SLUICE_CHECK(std::find(hints.begin(), hints.end(), item) == hints.end(), "-hint '", options.hint, "': '",
                 item, "' is given twice");
    hints.push_back(item);
    if (comma == text.size()) break;
    pos = comma + 1;
  }
  return hints;
}

// Whether the device string names SIM: "SIM", or an entry of a list ("MULTI:CPU,SIM(4)", "AUTO:SIM").
bool names_sim_device(const std::string& device) {
  size_t pos = 0;
  while (pos <= device.size()) {
    const size_t end = std::min(device.find_first_of(":,(", pos), device.size());
    if (device.compare(pos, end - pos, sim_device_name) == 0) return true;
    pos = end + 1;
  }
  return false;
}

// Combinations of options that cannot mean anything, refused before anything is read or measured.
void check_options(const BenchOptions& options, const std::vector<std::string>& hints) {
  if (options.sim_device.empty()) {
    SLUICE_CHECK(!names_sim_device(options.device), "-d ", options.device,
                 ": SIM, the simulated accelerator, exists only with --sim-device SERVICE_MS[:CONCURRENCY], "
                 "e.g. --sim-device 5:4");
  } else {
    parse_sim_device(options.sim_device);  // throws for a bad value, before the model is read
  }
  if (options.sweep) {
    SLUICE_CHECK(
        options.nstreams.empty(), "-nstreams ", options.nstreams,
        " with --sweep: the sweep chooses NUM_STREAMS itself (--sweep-streams to choose the values)");
    SLUICE_CHECK(options.nireq == 0, "-nireq ", options.nireq,
                 " with --sweep: the sweep chooses the requests itself (1, 2 and 4 per stream; on BATCH, 1, "
                 "2 and 4 batches and OPTIMAL_NUMBER_OF_INFER_REQUESTS)");
    SLUICE_CHECK(options.batch == 0 || options.sweep_batch.empty(),
                 "-b and --sweep-batch: give one (-b fixes the batch, --sweep-batch sweeps it)");
    SLUICE_CHECK(hints.size() == 1, "--sweep with -hint ", options.hint,
                 ": give one hint, whose run the sweep is compared with");
    SLUICE_CHECK(!options.profile, "-pc with --sweep: profile one configuration without --sweep");
    // A BATCH device's sweep varies the batching (AUTO_BATCH_TIMEOUT x requests) and leaves the streams
    // to the hint; the batch it collects is part of the device name (BATCH:CPU(4)).
    if (is_batch_device(options.device)) {
      SLUICE_CHECK(options.sweep_streams.empty(), "--sweep-streams on ", options.device,
                   ": a BATCH device's sweep is AUTO_BATCH_TIMEOUT x requests (--sweep-timeouts); the hint "
                   "chooses the underlying device's streams");
      SLUICE_CHECK(options.sweep_batch.empty(), "--sweep-batch on ", options.device,
                   ": the BATCH device's batch is given in its name, e.g. BATCH:CPU(4); sweep it with one "
                   "run per device name");
    } else {
      SLUICE_CHECK(options.sweep_timeouts.empty(), "--sweep-timeouts on ",
                   options.device.empty() ? std::string("the default device") : options.device,
                   ": AUTO_BATCH_TIMEOUT is swept on a BATCH device only, e.g. -d BATCH:CPU(4)");
    }
  } else {
    SLUICE_CHECK(options.sweep_batch.empty(), "--sweep-batch without --sweep: add --sweep, or use -b");
    SLUICE_CHECK(options.sweep_streams.empty(),
                 "--sweep-streams without --sweep: add --sweep, or use -nstreams");
    SLUICE_CHECK(options.sweep_timeouts.empty(),
                 "--sweep-timeouts without --sweep: add --sweep, or use -p AUTO_BATCH_TIMEOUT=MS");
  }
}

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

// Makes every input static: -shape first, then the batch (dimension 0 of every input; 0: unchanged), then
// each dimension still dynamic becomes 1 (a note says so when `notes`; the ONNX Runtime peer,
// benchmarks/ort_bench.js, does the same).
void apply_shapes(Model& model, const BenchOptions& options, int64_t batch, bool notes) {
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
  if (batch > 0) model.reshape_batch(batch);

  std::map<std::string, PartialShape> resolved;
  for (const PortInfo& port : model.inputs()) {
    if (port.shape.is_static()) continue;
    SLUICE_CHECK(port.shape.rank_known(), "input '", port.name,
                 "' has an unknown rank: give its shape with -shape ", port.name, "[DIMS]");
    PartialShape shape = port.shape;
    for (Dimension& dim : shape.dims()) {
      if (dim.is_dynamic()) dim = Dimension(1);
    }
    if (notes) {
      std::cout << "note: input '" << port.name << "' " << port.shape.to_string()
                << ": dynamic dimensions set to 1 "
                << "(give -shape or -b to choose)\n";
    }
    resolved.emplace(port.name, shape);
  }
  if (!resolved.empty()) model.reshape(resolved);
}

// The compile properties: -p KEY=VALUE, then the benchmark_app-style flags and the run's plan (a property
// set by both is an error, so that a run never silently measures something other than asked).
AnyMap compile_properties(const BenchOptions& options, const RunPlan& plan) {
  AnyMap properties = parse_properties(options.properties);
  auto set = [&](std::string_view key, const std::string& flag, Any value) {
    std::string name(key);
    SLUICE_CHECK(!properties.count(name), flag, " and -p ", name, "=... both set ", name, ": give one");
    properties.emplace(name, std::move(value));
  };
  if (options.nthreads >= 0) set(props::inference_num_threads.name, "-nthreads", Any(options.nthreads));
  if (!plan.nstreams.empty()) {
    // AUTO goes as the string the property accepts; a count as a number.
    Any value = plan.nstreams == "AUTO" ? Any(plan.nstreams) : Any(int64_t{std::stoll(plan.nstreams)});
    set(props::num_streams.name, options.sweep ? "--sweep" : "-nstreams", std::move(value));
  }
  if (!options.infer_precision.empty()) {
    set(props::inference_precision_hint.name, "-infer_precision", Any(options.infer_precision));
  }
  if (plan.timeout_ms >= 0) set(props::auto_batch_timeout.name, "--sweep", Any(plan.timeout_ms));
  if (plan.hint != "none") set(props::performance_hint.name, "-hint", Any(hint_name(plan.hint)));
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
    Tensor tensor = random_value(port, rng);
    request.set_tensor(port.name, tensor);
    tensors.push_back(tensor);
  }
  return tensors;
}

int64_t batch_of(int64_t batch, const std::vector<PortInfo>& inputs) {
  if (batch > 0) return batch;
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

// Makes the folder of an output file (--json, --sweep-html) and checks that the file can be written, so that
// a bad path fails now rather than after the measurement.
void check_writable(const std::string& path, const std::string& flag) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  SLUICE_CHECK(!error, flag, " ", path, ": cannot create the folder ", parent.string(), ": ",
               error.message());
  SLUICE_CHECK(std::ofstream(path), flag, " ", path, ": cannot open the file for writing");
}

// Each request gets its own inputs: random data seeded with seed + the request's index.
std::vector<std::vector<Tensor>> set_request_inputs(std::vector<InferRequest>& requests,
                                                    const std::vector<PortInfo>& inputs, uint64_t seed) {
  std::vector<std::vector<Tensor>> tensors;
  tensors.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    tensors.push_back(set_random_inputs(requests[i], inputs, seed + i));
  }
  return tensors;
}

int64_t requests_for(const RunPlan& plan, const std::string& api, const CompiledModel& compiled) {
  if (plan.nireq > 0) return plan.nireq;
  if (api == "sync") return 1;
  const int64_t optimal = compiled.get_property(props::optimal_number_of_infer_requests);
  SLUICE_CHECK(optimal >= 1, "the compiled model's OPTIMAL_NUMBER_OF_INFER_REQUESTS is ", optimal,
               "; expected at least 1 (give -nireq)");
  return optimal;
}

// An integer property of the compiled model, or -1 where the device does not report it (or it is not an
// integer).
int64_t int_property(const CompiledModel& compiled, std::string_view name) {
  try {
    return compiled.get_property(std::string(name)).as<int64_t>();
  } catch (const Error&) {
    return -1;
  }
}

// A batching compiled model's batch and timeout (counters not yet read), or nothing: the counters are what
// only a batching model has (a CPU compiled model reports OPTIMAL_BATCH_SIZE too, the batch batching would
// use).
std::optional<AutoBatchInfo> auto_batch_info(const CompiledModel& compiled) {
  if (int_property(compiled, props::auto_batch_full_batches.name) < 0) return std::nullopt;
  AutoBatchInfo info;
  info.batch = int_property(compiled, props::optimal_batch_size.name);
  info.timeout_ms = int_property(compiled, props::auto_batch_timeout.name);
  return info;
}

// The counters as they are now: (AUTO_BATCH_FULL_BATCHES, AUTO_BATCH_TIMED_OUT), -1 where not reported.
std::pair<int64_t, int64_t> read_counters(const CompiledModel& compiled) {
  return {int_property(compiled, props::auto_batch_full_batches.name),
          int_property(compiled, props::auto_batch_timed_out.name)};
}

// A counter's growth from `before` to `after`; -1 where either was not reported.
int64_t growth(int64_t before, int64_t after) { return before >= 0 && after >= 0 ? after - before : -1; }

using ServedCounts = std::vector<std::pair<std::string, int64_t>>;

// SERVED_REQUESTS ("CPU:120" entries) as (device, count) pairs in the model's order, or nothing where the
// compiled model does not report it (every device but MULTI and AUTO).
std::optional<ServedCounts> read_served(const CompiledModel& compiled) {
  std::vector<std::string> entries;
  try {
    entries = compiled.get_property(props::served_requests);
  } catch (const Error&) {
    return std::nullopt;
  }
  ServedCounts counts;
  for (const std::string& entry : entries) {
    const size_t colon = entry.rfind(':');
    size_t used = 0;
    int64_t count = -1;
    try {
      if (colon != std::string::npos) count = std::stoll(entry.substr(colon + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    SLUICE_CHECK(colon != std::string::npos && used > 0 && colon + 1 + used == entry.size() && count >= 0,
                 "SERVED_REQUESTS entry '", entry, "': expected DEVICE:COUNT, e.g. CPU:120");
    counts.emplace_back(entry.substr(0, colon), count);
  }
  return counts;
}

// The requests each device served between two readings, in the order of `after` (a device that joined
// in between, as AUTO's preferred one after its background compile, counts from 0).
ServedCounts served_growth(const ServedCounts& before, const ServedCounts& after) {
  ServedCounts grown;
  for (const auto& [device, count] : after) {
    int64_t start = 0;
    for (const auto& [old_device, old_count] : before) {
      if (old_device == device) start = old_count;
    }
    grown.emplace_back(device, count - start);
  }
  return grown;
}

std::vector<std::string> execution_devices(const CompiledModel& compiled) {
  try {
    return compiled.get_property(props::execution_devices);
  } catch (const Error&) {
    return {};
  }
}

int64_t peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // kilobytes on Linux
}

std::string plural(int64_t count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

}  // namespace

bool is_batch_device(const std::string& device) {
  return device.rfind("BATCH", 0) == 0 && (device.size() == 5 || device[5] == ':');
}

std::string hint_name(const std::string& hint) {
  if (hint == "none") return hint;
  std::string mode = hint;
  for (char& c : mode) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return mode;
}

BenchSession::BenchSession(const BenchOptions& options, const StopCondition& stop)
    : options(options), stop(stop), progress(isatty(STDOUT_FILENO) == 1) {
  // SIM first, so that choose_device and the model's compile see it like any device.
  if (!options.sim_device.empty()) {
    const SimDeviceConfig sim = parse_sim_device(options.sim_device);
    core.register_plugin(make_sim_plugin(sim));
    sim_description = sim_device_description(sim);
  }
  device = choose_device(core, options.device);
  model_name = options.model_path.empty() ? built_in_model : options.model_path;
  const BenchClock::time_point start = BenchClock::now();
  model = options.model_path.empty() ? core.read_model(default_model_bytes())
                                     : core.read_model(options.model_path);
  read_ms = milliseconds(BenchClock::now() - start);
}

CompiledModel compile_for(BenchSession& session, const RunPlan& plan, double* compile_ms) {
  Model model = session.model.clone();
  apply_shapes(model, session.options, plan.batch > 0 ? plan.batch : session.options.batch,
               session.shape_notes);
  session.shape_notes = false;
  const AnyMap properties = compile_properties(session.options, plan);
  const BenchClock::time_point start = BenchClock::now();
  CompiledModel compiled = session.core.compile_model(model, session.device, properties);
  if (compile_ms != nullptr) *compile_ms = milliseconds(BenchClock::now() - start);
  return compiled;
}

BenchReport run_once(BenchSession& session, const RunPlan& plan, Verbosity verbosity) {
  const BenchOptions& options = session.options;
  const bool full = verbosity == Verbosity::full;
  BenchReport report;
  report.model = session.model_name;
  report.device = session.device;
  report.api = options.api;
  report.hint = hint_name(plan.hint);
  report.nstreams = plan.nstreams;
  report.label = plan.label;
  report.seed = options.seed;
  report.read_ms = session.read_ms;
  if (!session.sim_description.empty()) {
    report.simulated_device = std::string(sim_device_name) + ": " + session.sim_description;
  }

  const int64_t batch = plan.batch > 0 ? plan.batch : options.batch;
  CompiledModel compiled = compile_for(session, plan, &report.compile_ms);
  if (full) std::cout << "compile: " << std::fixed << std::setprecision(2) << report.compile_ms << " ms\n";

  report.inputs = compiled.inputs();
  report.batch = batch_of(batch, report.inputs);
  report.requests = requests_for(plan, options.api, compiled);
  std::vector<InferRequest> requests;
  requests.reserve(static_cast<size_t>(report.requests));
  for (int64_t i = 0; i < report.requests; ++i) requests.push_back(compiled.create_infer_request());
  // Kept until the end of the run: the requests use the tensors' memory.
  const std::vector<std::vector<Tensor>> inputs = set_request_inputs(requests, report.inputs, options.seed);
  report.properties = compiled_properties(compiled);
  if (full) {
    for (const PortInfo& port : report.inputs) {
      std::cout << "input " << port.name << ": " << to_string(port.type) << ' ' << port.shape.to_string()
                << " (random, seed " << options.seed << (report.requests > 1 ? " + the request's index" : "")
                << ")\n";
    }
    std::cout << "compiled model properties:\n";
    for (const auto& [name, value] : report.properties) std::cout << "  " << name << ": " << value << '\n';
  }
  // A device may resolve NUM_STREAMS otherwise than asked (a hint that wins, a cap at the cores): say so,
  // as the measurement is then of another configuration.
  const std::string resolved_streams = report.property(std::string(props::num_streams.name));
  if (!plan.nstreams.empty() && plan.nstreams != "AUTO" && resolved_streams != plan.nstreams) {
    std::cout << "note: NUM_STREAMS " << plan.nstreams << " was asked, the compiled model has "
              << resolved_streams << '\n';
  }
  report.auto_batch = auto_batch_info(compiled);
  if (full && report.auto_batch) {
    const AutoBatchInfo& info = *report.auto_batch;
    std::cout << "auto-batching: batch " << info.batch << " (OPTIMAL_BATCH_SIZE), AUTO_BATCH_TIMEOUT "
              << info.timeout_ms << " ms\n";
    // Fewer requests than the batch never fill one: each inference waits out the timeout.
    if (info.batch > report.requests) {
      std::cout << "note: " << plural(report.requests, "request", "requests") << " in flight for a batch of "
                << info.batch
                << ": no batch fills, every inference waits out AUTO_BATCH_TIMEOUT (give -nireq "
                << info.batch << " or more)\n";
    }
  }

  const BenchClock::time_point start = BenchClock::now();
  requests.front().infer();
  report.first_inference_ms = milliseconds(BenchClock::now() - start);
  // With several requests, each runs once more, all at once, so that every stream and request is warm.
  const bool async = options.api == "async";
  if (requests.size() > 1) warm_up(requests, async);
  if (full) {
    std::cout << "first inference (warm-up): " << std::fixed << std::setprecision(2)
              << report.first_inference_ms << " ms"
              << (report.auto_batch && report.auto_batch->batch > 1
                      ? " (a request alone: it waited out AUTO_BATCH_TIMEOUT)"
                      : "")
              << (requests.size() > 1 ? ", then one per request at once" : "") << '\n';
    std::cout << "measuring: " << report.api << " API, " << plural(report.requests, "request", "requests")
              << ", batch " << report.batch << ", " << describe(session.stop) << std::endl;
  }

  // The counters before measuring, so that the report counts the measured inferences only.
  const std::pair<int64_t, int64_t> before =
      report.auto_batch ? read_counters(compiled) : std::pair<int64_t, int64_t>{-1, -1};
  const std::optional<ServedCounts> served_before = read_served(compiled);
  Measurement measurement = async ? measure_async(requests, session.stop, session.progress)
                                  : measure_sync(requests, session.stop, session.progress);
  if (report.auto_batch) {
    const std::pair<int64_t, int64_t> after = read_counters(compiled);
    report.auto_batch->full_batches = growth(before.first, after.first);
    report.auto_batch->timed_out = growth(before.second, after.second);
  }
  if (served_before) {
    // Read after every chain has ended: a device counts a request before its callback runs, so the
    // counts add up to the measured inferences.
    const std::optional<ServedCounts> served_after = read_served(compiled);
    report.multi = MultiDeviceInfo{execution_devices(compiled), served_growth(*served_before, *served_after)};
  }
  report.count = static_cast<int64_t>(measurement.latencies_ms.size());
  report.duration_ms = measurement.duration_ms;
  report.latency = latency_stats(std::move(measurement.latencies_ms));
  report.throughput_fps = static_cast<double>(report.batch * report.count) / (report.duration_ms / 1000);
  report.peak_rss_kb = peak_rss_kb();

  if (full) {
    print_results(std::cout, report);
    if (options.profile) {
      std::cout << (requests.size() > 1 ? "profile of the last inference of request 0:\n"
                                        : "profile of the last inference:\n");
      print_profile_table(std::cout, requests.front().get_profiling_info());
    }
  }
  return report;
}

int run_bench_command(const BenchOptions& options) {
  const std::vector<std::string> hints = parse_hints(options);
  check_options(options, hints);
  if (!options.json_path.empty()) check_writable(options.json_path, "--json");
  if (options.sweep) check_writable(options.sweep_html, "--sweep-html");

  BenchSession session(options, stop_condition(options));
  std::cout << "model: " << session.model_name << "\ndevice: " << session.device << '\n';
  if (!session.sim_description.empty()) {
    std::cout << "note: SIM is a " << session.sim_description
              << ": its outputs are zeros and its speed is the service time, not a device's\n";
  }
  std::cout << std::fixed << std::setprecision(2) << "read model: " << session.read_ms << " ms\n";
  if (options.hint.empty()) {
    std::cout << "note: -hint not given: PERFORMANCE_HINT " << hint_name(hints.front())
              << " (benchmark_app's default for -api " << options.api << "; -hint none sets none)\n";
  }
  if (options.sweep) return run_sweep(session, hints.front());

  std::vector<BenchReport> reports;
  for (const std::string& hint : hints) {
    if (hints.size() > 1) std::cout << "\n=== -hint " << hint << " ===\n";
    reports.push_back(
        run_once(session, RunPlan{hint, options.nstreams, options.nireq, 0, {}}, Verbosity::full));
  }
  if (reports.size() > 1) {
    std::cout << "\nsummary (" << session.model_name << " on " << session.device << ", " << options.api
              << " API):\n";
    print_hint_table(std::cout, reports);
  }
  if (!options.json_path.empty()) {
    if (reports.size() == 1) {
      write_json_report(options.json_path, reports.front());
    } else {
      write_json_runs(options.json_path, reports);
    }
    std::cout << "wrote " << options.json_path << '\n';
  }
  return 0;
}

}  // namespace sluice::tool
