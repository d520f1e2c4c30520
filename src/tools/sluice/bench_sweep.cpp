// `sluice bench --sweep`: measures a grid of NUM_STREAMS x requests (x batch) and the configuration a
// performance hint picks, to show how close the hint comes to the best hand-picked configuration. On a
// BATCH device the grid is AUTO_BATCH_TIMEOUT x requests instead (the hint still chooses the underlying
// device's streams), against the device's default configuration.
#include <sched.h>

#include <algorithm>
#include <exception>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/error.hpp"
#include "tools/sluice/bench_report.hpp"
#include "tools/sluice/bench_session.hpp"
#include "tools/sluice/tool_util.hpp"

namespace sluice::tool {
namespace {

// Requests per stream in the grid: one keeps each stream busy only between a callback and the next start;
// more hide that gap, at the price of latency.
constexpr int64_t requests_per_stream[] = {1, 2, 4};

// A BATCH device's default AUTO_BATCH_TIMEOUT values (ms): from a timeout shorter than one batch's
// inference (a batch that does not fill at once is given up soon) to one far longer.
constexpr const char* default_timeouts = "1,5,20,100";

// Cores this process may run on (as the CPU device counts them).
int64_t available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(CPU_COUNT(&set), 1);
  return 1;
}

// "1,4,8": integers of at least `minimum` separated by ',', none repeated; `what` one of them is called in
// the error message.
std::vector<int64_t> parse_counts(const std::string& text, const std::string& flag, int64_t minimum = 1,
                                  const char* what = "count") {
  std::vector<int64_t> values;
  size_t pos = 0;
  while (true) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    size_t used = 0;
    int64_t value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    SLUICE_CHECK(!item.empty() && used == item.size() && value >= minimum, flag, " '", text, "': '", item,
                 "' is not a ", what, "; expected integers >= ", minimum, " separated by ',', e.g. 1,4");
    SLUICE_CHECK(std::find(values.begin(), values.end(), value) == values.end(), flag, " '", text,
                 "': ", value, " is given twice");
    values.push_back(value);
    if (comma == text.size()) break;
    pos = comma + 1;
  }
  return values;
}

// 1, 2, 4, ... below the core count, the core count, and twice it (oversubscribed: how much does it
// cost?). Powers of two rather than every count keep the grid small on machines of many cores.
std::vector<int64_t> default_streams(int64_t cores) {
  std::vector<int64_t> streams;
  for (int64_t count = 1; count < cores; count *= 2) streams.push_back(count);
  streams.push_back(cores);
  streams.push_back(2 * cores);
  return streams;
}

std::string join(const std::vector<int64_t>& values) {
  std::string text;
  for (int64_t value : values) text += (text.empty() ? "" : ", ") + std::to_string(value);
  return text;
}

std::string fixed(double value) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(2) << value;
  return text.str();
}

// Runs one configuration; one that fails (a NUM_STREAMS the device refuses, ...) is reported with its
// error rather than ending the sweep. Prints the one line of its result.
BenchReport measure(BenchSession& session, const RunPlan& plan) {
  BenchReport report;
  try {
    report = run_once(session, plan, Verbosity::brief);
    std::cout << plan.label << ": " << fixed(report.throughput_fps) << " FPS, median "
              << format_ms(report.latency.median) << " ms, p90 " << format_ms(report.latency.p90)
              << " ms (NUM_STREAMS " << report.property("NUM_STREAMS") << ", INFERENCE_NUM_THREADS "
              << report.property("INFERENCE_NUM_THREADS") << ", " << report.requests << " requests, "
              << report.count << " inferences";
    if (report.auto_batch) {
      const std::vector<std::string> headers = auto_batch_headers(), cells = auto_batch_cells(report);
      std::cout << "; AUTO_BATCH_TIMEOUT " << cells[0] << " ms, " << cells[1] << ' ' << headers[1] << ", "
                << cells[2] << ' ' << headers[2];
    }
    std::cout << ')' << std::endl;
  } catch (const std::exception& e) {
    report = BenchReport();
    report.label = plan.label;
    report.hint = hint_name(plan.hint);
    report.nstreams = plan.nstreams;
    report.requests = plan.nireq;
    report.batch = plan.batch;
    if (plan.timeout_ms >= 0) report.auto_batch = AutoBatchInfo{-1, plan.timeout_ms, -1, -1};
    report.error = one_line(e.what());
    std::cout << plan.label << ": failed: " << report.error << std::endl;
  }
  return report;
}

// The index of the configuration of highest throughput among those of `batch` (0: any), or -1.
int best_of(const std::vector<BenchReport>& grid, int64_t batch) {
  int best = -1;
  for (size_t i = 0; i < grid.size(); ++i) {
    if (!grid[i].error.empty() || (batch > 0 && grid[i].batch != batch)) continue;
    if (best < 0 || grid[i].throughput_fps > grid[static_cast<size_t>(best)].throughput_fps) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

// A sweep's configurations, in the order measured, and the hint's run they are compared with.
struct Grid {
  std::vector<RunPlan> plans;
  RunPlan hint;
  std::string description;  // what is swept, printed before measuring
  std::string hint_note;    // after the hint's name there: what its run is
  std::string legend;       // the chart's key to the labels
  bool several_batches = false;
};

std::string hint_label(const std::string& hint) {
  return hint == "none" ? std::string("no hint") : hint_name(hint) + " hint";
}

// NUM_STREAMS x requests per stream (x batch), each set by hand (no hint); the hint's run at the first
// batch.
Grid streams_grid(const BenchSession& session, const std::string& hint) {
  const BenchOptions& options = session.options;
  const int64_t cores = available_cores();
  const std::vector<int64_t> streams = options.sweep_streams.empty()
                                           ? default_streams(cores)
                                           : parse_counts(options.sweep_streams, "--sweep-streams");
  // 0: the batch of -b or of the model, unchanged.
  const std::vector<int64_t> batches = options.sweep_batch.empty()
                                           ? std::vector<int64_t>{options.batch}
                                           : parse_counts(options.sweep_batch, "--sweep-batch");
  Grid grid;
  grid.several_batches = batches.size() > 1;
  grid.legend = "s=NUM_STREAMS r=requests";
  grid.description = "NUM_STREAMS " + join(streams) + " (" + std::to_string(cores) +
                     " cores) x requests 1, 2, 4 per stream" +
                     (options.sweep_batch.empty() ? std::string() : " x batch " + join(batches));
  for (int64_t batch : batches) {
    for (int64_t stream_count : streams) {
      for (int64_t per_stream : requests_per_stream) {
        RunPlan plan;
        plan.hint = "none";  // the configuration is set by hand: no hint to override it
        plan.nstreams = std::to_string(stream_count);
        plan.nireq = stream_count * per_stream;
        plan.batch = batch;
        plan.label = "s=" + std::to_string(stream_count) + " r=" + std::to_string(plan.nireq) +
                     (grid.several_batches ? " b=" + std::to_string(batch) : "");
        grid.plans.push_back(plan);
      }
    }
  }
  // The hint's run: the hint chooses streams and requests (-nireq 0: its OPTIMAL_NUMBER_OF_INFER_REQUESTS);
  // with several batches, at the first of them.
  grid.hint.hint = hint;
  grid.hint.batch = batches.front();
  grid.hint.label =
      hint_label(hint) + (grid.several_batches ? " b=" + std::to_string(batches.front()) : std::string());
  return grid;
}

// An integer property the BATCH sweep cannot do without.
int64_t required_property(const CompiledModel& compiled, std::string_view name, const std::string& device) {
  try {
    return compiled.get_property(std::string(name)).as<int64_t>();
  } catch (const Error& e) {
    throw_error("--sweep on ", device, ": the compiled model reports no ", name,
                " (a BATCH device's sweep needs it): ", one_line(e.what()));
  }
}

// A BATCH device: AUTO_BATCH_TIMEOUT x requests (1, 2 and 4 batches' worth, and the device's
// OPTIMAL_NUMBER_OF_INFER_REQUESTS), each under the hint, so that the underlying device's streams are
// those of the default configuration and only the batching varies. The hint's run is that default
// configuration: the device's own requests and timeout. The batch and the defaults are read from the model
// compiled once beforehand as the hint's run will compile it.
Grid timeouts_grid(BenchSession& session, const std::string& hint) {
  const BenchOptions& options = session.options;
  const std::vector<int64_t> timeouts =
      parse_counts(options.sweep_timeouts.empty() ? default_timeouts : options.sweep_timeouts,
                   "--sweep-timeouts", 0, "timeout in ms");
  Grid grid;
  grid.hint.hint = hint;
  grid.hint.label = hint_label(hint);
  int64_t batch = 0, optimal = 0, default_timeout = 0;
  {
    const CompiledModel compiled = compile_for(session, grid.hint);
    batch = required_property(compiled, props::optimal_batch_size.name, session.device);
    optimal = required_property(compiled, props::optimal_number_of_infer_requests.name, session.device);
    default_timeout = required_property(compiled, props::auto_batch_timeout.name, session.device);
  }
  SLUICE_CHECK(batch >= 1 && optimal >= 1, "--sweep on ", session.device, ": the compiled model has batch ",
               batch, " and OPTIMAL_NUMBER_OF_INFER_REQUESTS ", optimal, "; expected both >= 1");
  // 1, 2 and 4 batches' worth (one batch fills only as fast as the last of its requests comes back;
  // more batches in flight hide that), and the device's own count.
  // Ascending, each once (a std::set: GCC 12 warns falsely on std::sort of a vector this small).
  const std::set<int64_t> distinct = {batch, 2 * batch, 4 * batch, optimal};
  const std::vector<int64_t> requests(distinct.begin(), distinct.end());

  grid.legend = "t=AUTO_BATCH_TIMEOUT ms r=requests";
  grid.description = "AUTO_BATCH_TIMEOUT " + join(timeouts) + " ms x requests " + join(requests) +
                     " (batch " + std::to_string(batch) +
                     ": 1, 2 and 4 batches, and OPTIMAL_NUMBER_OF_INFER_REQUESTS " + std::to_string(optimal) +
                     "), each under -hint " + hint;
  grid.hint_note = " (the default configuration: AUTO_BATCH_TIMEOUT " + std::to_string(default_timeout) +
                   " ms, " + std::to_string(optimal) + " requests)";
  for (int64_t timeout : timeouts) {
    for (int64_t count : requests) {
      RunPlan plan;
      plan.hint = hint;
      plan.nireq = count;
      plan.timeout_ms = timeout;
      plan.label = "t=" + std::to_string(timeout) + " r=" + std::to_string(count);
      grid.plans.push_back(plan);
    }
  }
  return grid;
}

}  // namespace

int run_sweep(BenchSession& session, const std::string& hint) {
  const BenchOptions& options = session.options;
  const Grid plans =
      is_batch_device(session.device) ? timeouts_grid(session, hint) : streams_grid(session, hint);
  const bool several_batches = plans.several_batches;

  std::cout << "sweep: " << plans.description << ", then -hint " << hint << plans.hint_note << "; "
            << options.api << " API, " << describe(session.stop) << " each\n";

  std::vector<BenchReport> grid;
  for (const RunPlan& plan : plans.plans) grid.push_back(measure(session, plan));
  const BenchReport hint_report = measure(session, plans.hint);

  const int best = best_of(grid, 0);
  if (best < 0 && !hint_report.error.empty()) {
    throw_error("--sweep: no configuration could be measured; the first failed with: ", grid.front().error);
  }

  std::cout << '\n';
  print_sweep_table(std::cout, grid, hint_report, best);
  // The hint picks streams and requests, not the batch: compare it with the best of its own batch.
  const int best_same_batch = best_of(grid, hint_report.batch);
  std::string summary;
  if (best >= 0) {
    const BenchReport& top = grid[static_cast<size_t>(best)];
    std::cout << "best configuration: " << top.label << ": " << fixed(top.throughput_fps) << " FPS, median "
              << format_ms(top.latency.median) << " ms\n";
  }
  if (best_same_batch >= 0 && hint_report.error.empty()) {
    const BenchReport& top = grid[static_cast<size_t>(best_same_batch)];
    summary = hint_report.label + ": " + fixed(hint_report.throughput_fps) +
              " FPS = " + fixed(hint_report.throughput_fps / top.throughput_fps) +
              "x the best configuration" +
              (several_batches ? " of batch " + std::to_string(hint_report.batch) : std::string()) + " (" +
              top.label + ": " + fixed(top.throughput_fps) + " FPS)";
    std::cout << summary << '\n';
  }

  std::ostringstream title;
  title << session.model_name << " on " << session.device << ", " << options.api << " API, "
        << session.stop.time_s << " s per configuration, " << available_cores() << " cores";
  write_sweep_html(options.sweep_html, title.str(), summary, plans.legend, grid, hint_report, best);
  std::cout << "wrote " << options.sweep_html << '\n';
  if (!options.json_path.empty()) {
    write_json_sweep(options.json_path, grid, hint_report, best);
    std::cout << "wrote " << options.json_path << '\n';
  }
  return 0;
}

}  // namespace sluice::tool
