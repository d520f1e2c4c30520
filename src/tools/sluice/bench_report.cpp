#include "tools/sluice/bench_report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <numeric>

#include "sluice/error.hpp"

namespace sluice::tool {
namespace {

// Nearest rank: the value at rank ceil(p/100 * n) (1-based) of the sorted latencies.
double percentile(const std::vector<double>& sorted, double p) {
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

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
  out << "    Median:     " << report.latency.median << " ms\n";
  out << "    Average:    " << report.latency.average << " ms\n";
  out << "    Min:        " << report.latency.min << " ms\n";
  out << "    Max:        " << report.latency.max << " ms\n";
  out << "    P90:        " << report.latency.p90 << " ms\n";
  out << "    P99:        " << report.latency.p99 << " ms\n";
  out << "Throughput: " << report.throughput_fps << " FPS (batch " << report.batch << ")\n";
  out << "Peak RSS:   " << report.peak_rss_kb << " kB\n";
  out.copyfmt(state);
}

void write_json_report(const std::string& path, const BenchReport& report) {
  // ordered_json keeps the keys in the order written: the headline numbers first.
  nlohmann::ordered_json json;
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
  json["requests"] = report.requests;
  json["batch"] = report.batch;
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

  std::ofstream file(path);
  SLUICE_CHECK(file, "--json ", path, ": cannot open the file for writing");
  file << json.dump(2) << '\n';
  SLUICE_CHECK(file.flush(), "--json ", path, ": cannot write the file");
}

}  // namespace sluice::tool
