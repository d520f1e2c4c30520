#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sluice/core.hpp"
#include "sluice/error.hpp"
#include "tools/sluice/commands.hpp"
#include "tools/sluice/conformance_case.hpp"
#include "tools/sluice/tool_util.hpp"

namespace sluice::tool {
namespace {

namespace fs = std::filesystem;

// Every test_* folder of the directory, sorted by name.
std::vector<fs::path> list_cases(const std::string& tests_dir) {
  SLUICE_CHECK(fs::is_directory(tests_dir), tests_dir,
               ": no such directory (expected a folder of test_* cases)");
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(tests_dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("test_", 0) == 0) {
      cases.push_back(entry.path());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::vector<fs::path> filter_cases(const std::vector<fs::path>& cases, const std::string& filter) {
  if (filter.empty()) return cases;
  std::regex pattern;
  try {
    pattern = std::regex(filter);
  } catch (const std::regex_error& e) {
    throw_error("--filter '", filter, "': not a valid regular expression (", e.what(), ")");
  }
  std::vector<fs::path> kept;
  for (const fs::path& path : cases) {
    if (std::regex_search(path.filename().string(), pattern)) kept.push_back(path);
  }
  return kept;
}

// The expectations file: case name -> why it is expected to fail. Lines are "test_name  # reason";
// blank lines and lines that start with '#' are ignored.
std::map<std::string, std::string> read_expectations(const std::string& path) {
  std::ifstream in(path);
  SLUICE_CHECK(in, path, ": cannot open the expectations file");
  std::map<std::string, std::string> expected;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    size_t hash = line.find('#');
    std::string reason = hash == std::string::npos ? "" : line.substr(hash + 1);
    std::istringstream fields(line.substr(0, hash));
    std::string name, extra;
    if (!(fields >> name)) continue;
    SLUICE_CHECK(!(fields >> extra), path, ":", number, ": expected 'test_name  # reason', got '", line, "'");
    SLUICE_CHECK(expected.emplace(name, reason).second, path, ":", number, ": '", name, "' is listed twice");
  }
  return expected;
}

// Runs the cases on `jobs` threads and calls report(result) for each, in the cases' order, on this thread.
template <class Report>
void run_cases(const Core& core, const std::vector<fs::path>& cases, const std::string& device, int jobs,
               Report&& report) {
  std::vector<std::optional<CaseResult>> results(cases.size());
  std::mutex mutex;
  std::condition_variable ready;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < cases.size(); i = next++) {
      CaseResult result = run_conformance_case(core, cases[i], device);
      std::lock_guard lock(mutex);
      results[i] = std::move(result);
      ready.notify_all();
    }
  };
  std::vector<std::jthread> workers;
  for (int j = 0; j < std::min<int>(jobs, static_cast<int>(cases.size())); ++j) workers.emplace_back(work);
  for (size_t i = 0; i < cases.size(); ++i) {
    std::unique_lock lock(mutex);
    ready.wait(lock, [&] { return results[i].has_value(); });
    CaseResult result = *results[i];
    lock.unlock();
    report(result);
  }
}

void write_json(const std::string& path, const std::string& device, const std::vector<CaseResult>& results,
                const std::map<CaseResult::Status, int>& counts) {
  nlohmann::json cases = nlohmann::json::array();
  for (const CaseResult& result : results) {
    cases.push_back({{"name", result.name}, {"status", to_string(result.status)}, {"reason", result.reason}});
  }
  nlohmann::json report = {{"device", device},
                           {"cases", cases},
                           {"passed", counts.at(CaseResult::Status::pass)},
                           {"failed", counts.at(CaseResult::Status::fail)},
                           {"skipped", counts.at(CaseResult::Status::skip)}};
  std::ofstream out(path);
  SLUICE_CHECK(out, path, ": cannot open the JSON report for writing");
  out << report.dump(1) << '\n';
  SLUICE_CHECK(out, path, ": error while writing the JSON report");
}

// Prints the results that differ from the expectations; returns how many do.
int report_unexpected(const std::vector<CaseResult>& results,
                      const std::map<std::string, std::string>& expected,
                      const std::set<std::string>& all_names) {
  int unexpected = 0;
  for (const CaseResult& result : results) {
    bool listed = expected.count(result.name) != 0;
    if (result.status == CaseResult::Status::fail && !listed) {
      std::cout << "UNEXPECTED FAIL " << result.name << ": " << result.reason << '\n';
      ++unexpected;
    } else if (result.status == CaseResult::Status::pass && listed) {
      std::cout << "UNEXPECTED PASS " << result.name << '\n';
      ++unexpected;
    } else if (result.status == CaseResult::Status::skip && listed) {
      std::cout << "note: " << result.name << " is listed as expected to fail but is out of scope\n";
    }
  }
  for (const auto& [name, reason] : expected) {
    if (!all_names.count(name))
      std::cout << "note: " << name << " is listed but is not a case of the folder\n";
  }
  return unexpected;
}

}  // namespace

int run_conformance_command(const ConformanceOptions& options) {
  Core core;
  std::string device = choose_device(core, options.device);
  core.get_property(device.substr(0, device.find(':')), props::supported_properties);  // throws if unknown
  std::vector<fs::path> all_cases = list_cases(options.tests_dir);
  std::vector<fs::path> cases = filter_cases(all_cases, options.filter);
  std::map<std::string, std::string> expected;
  if (!options.expectations_path.empty()) expected = read_expectations(options.expectations_path);

  std::vector<CaseResult> results;
  std::map<CaseResult::Status, int> counts{
      {CaseResult::Status::pass, 0}, {CaseResult::Status::fail, 0}, {CaseResult::Status::skip, 0}};
  run_cases(core, cases, device, options.jobs, [&](const CaseResult& result) {
    std::cout << to_string(result.status) << ' ' << result.name;
    if (!result.reason.empty()) std::cout << ": " << result.reason;
    std::cout << std::endl;
    ++counts[result.status];
    results.push_back(result);
  });
  if (!options.json_path.empty()) write_json(options.json_path, device, results, counts);

  int exit_code = counts[CaseResult::Status::fail] == 0 ? 0 : 1;
  if (!options.expectations_path.empty()) {
    std::set<std::string> all_names;
    for (const fs::path& path : all_cases) all_names.insert(path.filename().string());
    exit_code = report_unexpected(results, expected, all_names) == 0 ? 0 : 1;
  }
  std::cout << counts[CaseResult::Status::pass] << " passed, " << counts[CaseResult::Status::fail]
            << " failed, " << counts[CaseResult::Status::skip] << " skipped" << std::endl;
  return exit_code;
}

}  // namespace sluice::tool
