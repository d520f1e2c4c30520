// One case of the ONNX backend node tests: a folder with model.onnx and test_data_set_N/ folders.
#pragma once

#include <filesystem>
#include <string>

#include "sluice/core.hpp"

namespace sluice::tool {

struct CaseResult {
  enum class Status { pass, fail, skip };
  std::string name;
  Status status = Status::fail;
  std::string reason;  // one line; empty for a pass
};

std::string_view to_string(CaseResult::Status status);  // "PASS", "FAIL", "SKIP"

// Runs a case on a device: skipped when out of scope (see conformance_scope.hpp), else reads and compiles
// the model and, for every data set, sets input_K.pb as the K-th input, infers and compares each
// output_K.pb with the K-th output. Never throws: every error is a failure with its message.
// Thread-safe (the core is shared; everything else is the case's own).
CaseResult run_conformance_case(const Core& core, const std::filesystem::path& case_dir,
                                const std::string& device);

}  // namespace sluice::tool
