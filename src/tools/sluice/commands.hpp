// The subcommands of the `sluice` command-line tool. Each returns the process exit code and throws
// sluice::Error (or std::exception) for errors, which main() prints as one "sluice: error: ..." line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::tool {

// `sluice devices`: every available device with its name and supported properties.
int run_devices_command();

// `sluice info MODEL`: ports, opsets, operator histogram and unsupported operators.
struct InfoOptions {
  std::string model_path;
};
int run_info_command(const InfoOptions& options);

// `sluice run [MODEL] ...`: one inference with given or random inputs.
struct RunOptions {
  std::string model_path;               // empty: the built-in default model
  std::string device;                   // empty: CPU if available, else REF
  std::vector<std::string> inputs;      // "NAME=FILE.npy"
  std::vector<std::string> shapes;      // "NAME=[1,3,224,224]"
  std::vector<std::string> properties;  // "KEY=VALUE"
  std::string output_dir;               // empty: no files written
  uint64_t seed = 0;
};
int run_run_command(const RunOptions& options);

// `sluice conformance DIR ...`: runs the ONNX backend node test cases of a folder on a device.
struct ConformanceOptions {
  std::string tests_dir;
  std::string device;             // empty: CPU if available, else REF
  std::string filter;             // std::regex searched in each case's folder name; empty: every case
  std::string json_path;          // empty: no JSON report
  std::string expectations_path;  // empty: every failure is unexpected
  int jobs = 1;
};
int run_conformance_command(const ConformanceOptions& options);

}  // namespace sluice::tool
