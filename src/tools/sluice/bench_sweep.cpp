// `sluice bench --sweep`: measures a grid of NUM_STREAMS x requests (x batch) and the configuration a
// performance hint picks, to show how close the hint comes to the best hand-picked configuration.
#include <sched.h>

#include <algorithm>
#include <exception>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
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

// Cores this process may run on (as the CPU device counts them).
int64_t available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(CPU_COUNT(&set), 1);
  return 1;
}

// "1,4,8": positive integers separated by ',', none repeated.
std::vector<int64_t> parse_counts(const std::string& text, const std::string& flag) {
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
    SLUICE_CHECK(!item.empty() && used == item.size() && value >= 1, flag, " '", text, "': '", item,
                 "' is not a count; expected integers >= 1 separated by ',', e.g. 1,4");
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
              << report.count << " inferences)" << std::endl;
  } catch (const std::exception& e) {
    report = BenchReport();
    report.label = plan.label;
    report.hint = hint_name(plan.hint);
    report.nstreams = plan.nstreams;
    report.requests = plan.nireq;
    report.batch = plan.batch;
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

}  // namespace

int run_sweep(BenchSession& session, const std::string& hint) {
  const BenchOptions& options = session.options;
  const int64_t cores = available_cores();
  const std::vector<int64_t> streams = options.sweep_streams.empty()
                                           ? default_streams(cores)
                                           : parse_counts(options.sweep_streams, "--sweep-streams");
  // 0: the batch of -b or of the model, unchanged.
  const std::vector<int64_t> batches = options.sweep_batch.empty()
                                           ? std::vector<int64_t>{options.batch}
                                           : parse_counts(options.sweep_batch, "--sweep-batch");
  const bool several_batches = batches.size() > 1;

  std::cout << "sweep: NUM_STREAMS " << join(streams) << " (" << cores
            << " cores) x requests 1, 2, 4 per stream";
  if (!options.sweep_batch.empty()) std::cout << " x batch " << join(batches);
  std::cout << ", then -hint " << hint << "; " << options.api << " API, " << describe(session.stop)
            << " each\n";

  std::vector<BenchReport> grid;
  for (int64_t batch : batches) {
    for (int64_t stream_count : streams) {
      for (int64_t per_stream : requests_per_stream) {
        RunPlan plan;
        plan.hint = "none";  // the configuration is set by hand: no hint to override it
        plan.nstreams = std::to_string(stream_count);
        plan.nireq = stream_count * per_stream;
        plan.batch = batch;
        plan.label = "s=" + std::to_string(stream_count) + " r=" + std::to_string(plan.nireq) +
                     (several_batches ? " b=" + std::to_string(batch) : "");
        grid.push_back(measure(session, plan));
      }
    }
  }
  // The hint's run: the hint chooses streams and requests (-nireq 0: its OPTIMAL_NUMBER_OF_INFER_REQUESTS);
  // with several batches, at the first of them.
  RunPlan hint_plan;
  hint_plan.hint = hint;
  hint_plan.batch = batches.front();
  hint_plan.label = (hint == "none" ? std::string("no hint") : hint_name(hint) + " hint") +
                    (several_batches ? " b=" + std::to_string(batches.front()) : "");
  const BenchReport hint_report = measure(session, hint_plan);

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
        << session.stop.time_s << " s per configuration, " << cores << " cores";
  write_sweep_html(options.sweep_html, title.str(), summary, grid, hint_report, best);
  std::cout << "wrote " << options.sweep_html << '\n';
  if (!options.json_path.empty()) {
    write_json_sweep(options.json_path, grid, hint_report, best);
    std::cout << "wrote " << options.json_path << '\n';
  }
  return 0;
}

}  // namespace sluice::tool
