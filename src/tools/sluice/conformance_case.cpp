#include "tools/sluice/conformance_case.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "frontend/onnx_reader.hpp"
#include "sluice/error.hpp"
#include "tools/sluice/conformance_scope.hpp"
#include "tools/sluice/tensor_compare.hpp"
#include "tools/sluice/tool_util.hpp"

namespace sluice::tool {
namespace {

namespace fs = std::filesystem;

// Cases compared with looser tolerances than the ONNX runner's (rtol 1e-3, atol 1e-7), each with why.
struct ToleranceOverride {
  std::string_view case_name;
  Tolerance tolerance;
  std::string_view reason;
};
constexpr std::array<ToleranceOverride, 2> tolerance_overrides{{
    {"test_dft_inverse",
     {1e-3, 1e-6},
     "the exact result has zeros that the expected data holds as float32 round-off of up to 2e-7"},
    {"test_dft_inverse_opset19",
     {1e-3, 1e-6},
     "the exact result has zeros that the expected data holds as float32 round-off of up to 2e-7"},
}};

Tolerance tolerance_for(const std::string& case_name) {
  for (const auto& entry : tolerance_overrides) {
    if (entry.case_name == case_name) return entry.tolerance;
  }
  return {};
}

// The suite stores bfloat16 data as UINT16 tensors (NumPy has no bfloat16 dtype): a u16 tensor given for,
// or expected from, a bf16 port holds the bf16 bits, so it is read as bf16.
Tensor as_port_type(const Tensor& tensor, ElementType port_type) {
  if (port_type != ElementType::bf16 || tensor.type() != ElementType::u16) return tensor;
  Tensor bits(ElementType::bf16, tensor.shape());
  if (tensor.byte_size()) std::memcpy(bits.data(), tensor.data(), tensor.byte_size());
  return bits;
}

// The test_data_set_N folders, by N.
std::vector<fs::path> data_sets(const fs::path& case_dir) {
  std::vector<std::pair<long, fs::path>> found;
  const std::string prefix = "test_data_set_";
  for (const auto& entry : fs::directory_iterator(case_dir)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.rfind(prefix, 0) != 0) continue;
    found.emplace_back(std::strtol(name.c_str() + prefix.size(), nullptr, 10), entry.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> sets;
  sets.reserve(found.size());
  for (auto& [index, path] : found) sets.push_back(std::move(path));
  return sets;
}

// prefix_K.pb for K = 0, 1, ... while they exist.
std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  while (true) {
    fs::path file = dir / (prefix + std::to_string(files.size()) + ".pb");
    if (!fs::exists(file)) return files;
    files.push_back(file);
  }
}

// Runs one data set; the reason of the first mismatch, or nullopt when every output matches.
std::optional<std::string> run_data_set(InferRequest& request, const fs::path& dir,
                                        const Tolerance& tolerance) {
  const auto& inputs = request.inputs();
  std::vector<fs::path> input_files = numbered_files(dir, "input_");
  SLUICE_CHECK(input_files.size() <= inputs.size(), dir.filename().string(), " has ", input_files.size(),
               " inputs, the model ", inputs.size());
  for (size_t k = 0; k < input_files.size(); ++k) {
    const PortInfo& port = inputs[k];
    Tensor input =
        frontend::read_value_proto_file(input_files[k].string(), port.sequence, port.optional, port.type);
    request.set_tensor(port.name, as_port_type(input, port.type));
  }
  request.infer();
  const auto& outputs = request.outputs();
  std::vector<fs::path> output_files = numbered_files(dir, "output_");
  SLUICE_CHECK(!output_files.empty(), dir.filename().string(), " has no output_0.pb");
  SLUICE_CHECK(output_files.size() <= outputs.size(), dir.filename().string(), " has ", output_files.size(),
               " outputs, the model ", outputs.size());
  for (size_t k = 0; k < output_files.size(); ++k) {
    const PortInfo& port = outputs[k];
    Tensor expected = as_port_type(
        frontend::read_value_proto_file(output_files[k].string(), port.sequence, port.optional, port.type),
        port.type);
    if (auto reason = compare_results(request.get_output_tensor(k), expected, tolerance)) {
      return "output '" + outputs[k].name + "': " + *reason;
    }
  }
  return std::nullopt;
}

// The message with the case's folder left out of the paths it names ("model.onnx: ..."), so that reasons
// do not depend on where the suite lies.
std::string without_folder(std::string message, const fs::path& case_dir) {
  const std::string folder = case_dir.string() + "/";
  for (size_t pos = message.find(folder); pos != std::string::npos; pos = message.find(folder, pos)) {
    message.erase(pos, folder.size());
  }
  return message;
}

CaseResult run_in_scope(const Core& core, const fs::path& case_dir, const std::string& device) {
  CaseResult result{case_dir.filename().string(), CaseResult::Status::pass, {}};
  Model model = core.read_model((case_dir / "model.onnx").string());
  CompiledModel compiled = core.compile_model(model, device);
  InferRequest request = compiled.create_infer_request();
  std::vector<fs::path> sets = data_sets(case_dir);
  SLUICE_CHECK(!sets.empty(), "no test_data_set_* folders");
  Tolerance tolerance = tolerance_for(result.name);
  for (const fs::path& set : sets) {
    if (auto reason = run_data_set(request, set, tolerance)) {
      result.status = CaseResult::Status::fail;
      result.reason = sets.size() > 1 ? set.filename().string() + ": " + *reason : *reason;
      break;
    }
  }
  return result;
}

}  // namespace

std::string_view to_string(CaseResult::Status status) {
  switch (status) {
    case CaseResult::Status::pass: return "PASS";
    case CaseResult::Status::fail: return "FAIL";
    case CaseResult::Status::skip: return "SKIP";
  }
  return "?";
}

CaseResult run_conformance_case(const Core& core, const fs::path& case_dir, const std::string& device) {
  CaseResult result{case_dir.filename().string(), CaseResult::Status::fail, {}};
  try {
    if (auto reason = out_of_scope_reason((case_dir / "model.onnx").string())) {
      result.status = CaseResult::Status::skip;
      result.reason = *reason;
      return result;
    }
    return run_in_scope(core, case_dir, device);
  } catch (const std::exception& e) {
    result.reason = without_folder(one_line(e.what()), case_dir);
  } catch (...) {
    result.reason = "unknown exception";
  }
  if (result.reason.empty()) result.reason = "error without a message";
  return result;
}

}  // namespace sluice::tool
