#include "tools/sluice/bench_report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "sluice/error.hpp"

namespace sluice::tool {
namespace {

// Nearest rank: the value at rank ceil(p/100 * n) (1-based) of the sorted latencies.
double percentile(const std::vector<double>& sorted, double p) {
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// "-" for a value the device did not report (-1).
std::string known(int64_t value) { return value >= 0 ? std::to_string(value) : "-"; }

}  // namespace

std::string format_ms(double ms) {
  int digits = 2;
  if (ms > 0 && ms < 1) digits = std::clamp(2 - static_cast<int>(std::floor(std::log10(ms))), 2, 6);
  std::ostringstream text;
  text << std::fixed << std::setprecision(digits) << ms;
  return text.str();
}

LatencyStats latency_stats(std::vector<double> latencies_ms) {
  SLUICE_CHECK(!latencies_ms.empty(), "latency statistics of no inferences");
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const size_t n = latencies_ms.size();
  LatencyStats stats;
  stats.median = n % 2 == 1 ? latencies_ms[n / 2] : (latencies_ms[n / 2 - 1] + latencies_ms[n / 2]) / 2;
  stats.average = std::accumulate(latencies_ms.begin(), latencies_ms.end(), 0.0) / static_cast<double>(n);
  stats.min = latencies_ms.front();
  stats.max = latencies_ms.back();
  stats.p90 = percentile(latencies_ms, 90);
  stats.p99 = percentile(latencies_ms, 99);
  return stats;
}

void print_results(std::ostream& out, const BenchReport& report) {
  std::ios state(nullptr);
  state.copyfmt(out);
  out << std::fixed << std::setprecision(2);
  out << "Count:      " << report.count << " iterations\n";
  out << "Duration:   " << report.duration_ms << " ms\n";
  out << "Latency:\n";
  out << "    Median:     " << format_ms(report.latency.median) << " ms\n";
  out << "    Average:    " << format_ms(report.latency.average) << " ms\n";
  out << "    Min:        " << format_ms(report.latency.min) << " ms\n";
  out << "    Max:        " << format_ms(report.latency.max) << " ms\n";
  out << "    P90:        " << format_ms(report.latency.p90) << " ms\n";
  out << "    P99:        " << format_ms(report.latency.p99) << " ms\n";
  out << "Throughput: " << report.throughput_fps << " FPS (batch " << report.batch << ")\n";
  out << "Peak RSS:   " << report.peak_rss_kb << " kB\n";
  if (report.auto_batch) {
    const AutoBatchInfo& info = *report.auto_batch;
    out << "Auto-batching (measured inferences):\n";
    out << "    Batch:         " << known(info.batch) << " (OPTIMAL_BATCH_SIZE), AUTO_BATCH_TIMEOUT "
        << known(info.timeout_ms) << " ms\n";
    out << "    Full batches:  " << known(info.full_batches) << " (AUTO_BATCH_FULL_BATCHES)\n";
    out << "    Timed out:     " << known(info.timed_out)
        << " requests, run unbatched (AUTO_BATCH_TIMED_OUT)\n";
  }
  if (report.multi) {
    const MultiDeviceInfo& info = *report.multi;
    int64_t total = 0;
    size_t width = 0;
    for (const auto& [device, count] : info.served) {
      total += count;
      width = std::max(width, device.size());
    }
    out << "Served requests per device (measured inferences, SERVED_REQUESTS):\n";
    for (const auto& [device, count] : info.served) {
      out << "    " << device << ":" << std::string(width - device.size() + 1, ' ') << count;
      if (total > 0) {
        out << " (" << std::setprecision(1) << 100.0 * static_cast<double>(count) / static_cast<double>(total)
            << "%)" << std::setprecision(2);
      }
      out << '\n';
    }
    out << "Execution devices: ";
    for (size_t i = 0; i < info.execution_devices.size(); ++i) {
      out << (i > 0 ? ", " : "") << info.execution_devices[i];
    }
    out << " (EXECUTION_DEVICES)\n";
  }
  out.copyfmt(state);
}

std::string BenchReport::property(const std::string& name) const {
  for (const auto& [key, value] : properties) {
    if (key == name) return value;
  }
  return "?";
}

bool any_batched(const std::vector<BenchReport>& grid, const BenchReport& hint) {
  return hint.auto_batch || std::any_of(grid.begin(), grid.end(), [](const BenchReport& report) {
           return report.auto_batch.has_value();
         });
}

std::vector<std::string> auto_batch_headers() { return {"timeout ms", "full batches", "timed out"}; }

std::vector<std::string> auto_batch_cells(const BenchReport& report) {
  if (!report.auto_batch) return {"-", "-", "-"};
  const AutoBatchInfo& info = *report.auto_batch;
  return {known(info.timeout_ms), known(info.full_batches), known(info.timed_out)};
}

namespace {

std::string fixed(double value, int digits = 2) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(digits) << value;
  return text.str();
}

// Prints rows as columns: the first left-aligned, the others right-aligned, two spaces apart.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string padding(widths[i] - row[i].size(), ' ');
      if (i == 0) {
        // The last column of a row may be a long message (a failed configuration): no padding after it.
        line += row.size() == 1 ? row[i] : row[i] + padding;
      } else {
        line += "  " + padding + row[i];
      }
    }
    out << line << '\n';
  }
}

nlohmann::ordered_json to_json(const BenchReport& report) {
  // ordered_json keeps the keys in the order written: the headline numbers first.
  nlohmann::ordered_json json;
  if (!report.error.empty()) {
    // A configuration that could not be measured: what it was and why.
    json["label"] = report.label;
    json["nstreams"] = report.nstreams;
    json["nireq"] = report.requests;
    json["batch"] = report.batch;
    json["error"] = report.error;
    return json;
  }
  json["throughput_fps"] = report.throughput_fps;
  json["count"] = report.count;
  json["duration_ms"] = report.duration_ms;
  json["latency_ms"] = {{"median", report.latency.median}, {"average", report.latency.average},
                        {"min", report.latency.min},       {"max", report.latency.max},
                        {"p90", report.latency.p90},       {"p99", report.latency.p99}};
  json["first_inference_ms"] = report.first_inference_ms;
  json["read_ms"] = report.read_ms;
  json["compile_ms"] = report.compile_ms;
  json["peak_rss_kb"] = report.peak_rss_kb;
  json["model"] = report.model;
  json["device"] = report.device;
  json["api"] = report.api;
  json["hint"] = report.hint;
  if (!report.nstreams.empty()) json["nstreams"] = report.nstreams;
  if (!report.label.empty()) json["label"] = report.label;
  json["nireq"] = report.requests;
  json["requests"] = report.requests;  // the same as nireq; the key ort_bench.js shares (BENCHMARKS.md)
  json["batch"] = report.batch;
  if (report.auto_batch) {
    // -1: not reported by the device. The counters are those of the measured inferences.
    const AutoBatchInfo& info = *report.auto_batch;
    json["auto_batch"] = {{"batch", info.batch},
                          {"timeout_ms", info.timeout_ms},
                          {"full_batches", info.full_batches},
                          {"timed_out", info.timed_out}};
  }
  if (report.multi) {
    nlohmann::ordered_json served = nlohmann::ordered_json::object();
    for (const auto& [device, count] : report.multi->served) served[device] = count;
    json["served_requests"] = served;  // of the measured inferences
    json["execution_devices"] = report.multi->execution_devices;
  }
  if (!report.simulated_device.empty()) json["simulated_device"] = report.simulated_device;
  json["seed"] = report.seed;
  nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
  for (const PortInfo& port : report.inputs) {
    inputs.push_back(
        {{"name", port.name}, {"type", to_string(port.type)}, {"shape", port.shape.to_string()}});
  }
  json["inputs"] = inputs;
  nlohmann::ordered_json properties = nlohmann::ordered_json::object();
  for (const auto& [name, value] : report.properties) properties[name] = value;
  json["properties"] = properties;
  return json;
}

void write_json(const std::string& path, const nlohmann::ordered_json& json) {
  std::ofstream file(path);
  SLUICE_CHECK(file, "--json ", path, ": cannot open the file for writing");
  file << json.dump(2) << '\n';
  SLUICE_CHECK(file.flush(), "--json ", path, ": cannot write the file");
}

}  // namespace

void print_hint_table(std::ostream& out, const std::vector<BenchReport>& reports) {
  std::vector<std::vector<std::string>> rows = {
      {"hint", "NUM_STREAMS", "INFERENCE_NUM_THREADS", "requests", "FPS", "median ms", "p90 ms", "p99 ms"}};
  for (const BenchReport& report : reports) {
    rows.push_back({report.hint, report.property("NUM_STREAMS"), report.property("INFERENCE_NUM_THREADS"),
                    std::to_string(report.requests), fixed(report.throughput_fps),
                    format_ms(report.latency.median), format_ms(report.latency.p90),
                    format_ms(report.latency.p99)});
  }
  print_table(out, rows);
}

void print_sweep_table(std::ostream& out, const std::vector<BenchReport>& grid, const BenchReport& hint,
                       int best) {
  const double best_fps = best >= 0 ? grid[static_cast<size_t>(best)].throughput_fps : 0;
  const bool batched = any_batched(grid, hint);
  std::vector<std::vector<std::string>> rows = {{"configuration", "NUM_STREAMS", "threads", "requests",
                                                 "batch", "FPS", "median ms", "p90 ms", "p99 ms", "vs best"}};
  if (batched) {
    const std::vector<std::string> headers = auto_batch_headers();
    rows.front().insert(rows.front().end(), headers.begin(), headers.end());
  }
  auto add = [&](const BenchReport& report, const std::string& name) {
    if (!report.error.empty()) {
      rows.push_back({name + "  failed: " + report.error});
      return;
    }
    rows.push_back({name, report.property("NUM_STREAMS"), report.property("INFERENCE_NUM_THREADS"),
                    std::to_string(report.requests), std::to_string(report.batch),
                    fixed(report.throughput_fps), format_ms(report.latency.median),
                    format_ms(report.latency.p90), format_ms(report.latency.p99),
                    best_fps > 0 ? fixed(report.throughput_fps / best_fps) + "x" : "-"});
    if (batched) {
      const std::vector<std::string> cells = auto_batch_cells(report);
      rows.back().insert(rows.back().end(), cells.begin(), cells.end());
    }
  };
  for (size_t i = 0; i < grid.size(); ++i) {
    add(grid[i], grid[i].label + (static_cast<int>(i) == best ? " (best)" : ""));
  }
  add(hint, hint.label);
  print_table(out, rows);
}

void write_json_report(const std::string& path, const BenchReport& report) {
  write_json(path, to_json(report));
}

void write_json_runs(const std::string& path, const std::vector<BenchReport>& reports) {
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const BenchReport& report : reports) runs.push_back(to_json(report));
  nlohmann::ordered_json json;
  json["runs"] = runs;
  write_json(path, json);
}

void write_json_sweep(const std::string& path, const std::vector<BenchReport>& grid, const BenchReport& hint,
                      int best) {
  nlohmann::ordered_json sweep = nlohmann::ordered_json::array();
  for (const BenchReport& report : grid) sweep.push_back(to_json(report));
  nlohmann::ordered_json json;
  json["sweep"] = sweep;
  json["hint"] = to_json(hint);
  json["best"] = best >= 0 ? to_json(grid[static_cast<size_t>(best)]) : nlohmann::ordered_json();
  write_json(path, json);
}

}  // namespace sluice::tool
