#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sluice/core.hpp"
#include "sluice/error.hpp"
#include "tools/sluice/commands.hpp"
#include "tools/sluice/default_model.hpp"
#include "tools/sluice/profile_table.hpp"
#include "tools/sluice/tensor_text.hpp"
#include "tools/sluice/tool_util.hpp"
#include "util/npy.hpp"

namespace sluice::tool {
namespace {

using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Reads the -i files and checks each against its port.
std::map<std::string, Tensor> read_input_files(const Model& model, const std::vector<std::string>& items) {
  std::map<std::string, Tensor> tensors;
  for (const auto& [name, path] : parse_named(items, "-i")) {
    const PortInfo& port = find_input(model, name, "-i");
    SLUICE_CHECK(!port.sequence, "-i ", name, "=", path, ": input '", name,
                 "' is a sequence, which a .npy file cannot hold; leave it out to get random items");
    Tensor tensor = util::read_npy(path);
    if (port.type == ElementType::bf16 && tensor.type() == ElementType::f32) tensor = narrow_to_bf16(tensor);
    SLUICE_CHECK(tensor.type() == port.type, "-i ", name, "=", path, ": the file holds ",
                 to_string(tensor.type()), " data, input '", name, "' expects ", to_string(port.type));
    SLUICE_CHECK(port.shape.accepts(tensor.shape()), "-i ", name, "=", path, ": the file's shape ",
                 to_string(tensor.shape()), " does not fit input '", name, "' of shape ",
                 port.shape.to_string());
    tensors.emplace(name, tensor);
  }
  return tensors;
}

// Makes the model static where -s or -i say how: -s shapes, and the shapes of -i files for dynamic inputs.
void apply_shapes(Model& model, const std::vector<std::string>& shape_items,
                  const std::map<std::string, Tensor>& given) {
  std::map<std::string, PartialShape> shapes;
  for (const auto& [name, dims] : parse_named(shape_items, "-s")) {
    find_input(model, name, "-s");
    SLUICE_CHECK(!given.count(name), "input '", name, "' has both -i and -s: give only one");
    shapes.emplace(name,
                   PartialShape(parse_dims(dims, std::string("-s ").append(name).append("=").append(dims))));
  }
  for (const auto& [name, tensor] : given) {
    if (!model.input(name).shape.is_static()) shapes.emplace(name, PartialShape(tensor.shape()));
  }
  if (!shapes.empty()) model.reshape(shapes);
  for (const PortInfo& port : model.inputs()) {
    SLUICE_CHECK(port.shape.is_static(), "input '", port.name, "' has the dynamic shape ",
                 port.shape.to_string(), ": give its data with -i ", port.name,
                 "=FILE.npy or its shape with -s ", port.name, "=DIMS");
  }
}

// "f32 [2,3]" for a tensor; "sequence of 2 f32 tensors", "no value" otherwise.
std::string value_header(const Tensor& value) {
  if (value.empty()) return "no value";
  if (value.is_sequence()) return describe(value);
  return std::string(to_string(value.type())) + " " + to_string(value.shape());
}

void make_output_dir(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  SLUICE_CHECK(!error, "-o ", dir, ": cannot create the folder: ", error.message());
}

void write_outputs(const std::string& dir, const std::vector<PortInfo>& outputs,
                   const InferRequest& request) {
  std::set<std::string> used;
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string base = sanitize_file_name(outputs[i].name);
    if (!used.insert(base).second) base.append("_").append(std::to_string(i));
    used.insert(base);
    Tensor tensor = request.get_output_tensor(i);
    if (tensor.empty() || tensor.type() == ElementType::string) {
      std::cout << "output " << outputs[i].name << " not written: "
                << (tensor.empty() ? "it has no value" : ".npy files of strings are not supported") << '\n';
      continue;
    }
    // A sequence's items go to <name>_<k>.npy.
    std::vector<std::pair<std::string, Tensor>> files;
    if (tensor.is_sequence()) {
      for (size_t k = 0; k < tensor.items().size(); ++k) {
        files.emplace_back(base + "_" + std::to_string(k), tensor.items()[k]);
      }
    } else {
      files.emplace_back(base, tensor);
    }
    for (const auto& [name, value] : files) {
      std::string path = (std::filesystem::path(dir) / (name + ".npy")).string();
      util::write_npy(path, widen_for_npy(value));
      const bool widened = value.type() == ElementType::bf16 || is_float8(value.type());
      std::cout << "wrote " << path
                << (widened ? " (" + std::string(to_string(value.type())) + " widened to f32)" : "") << '\n';
    }
  }
}

}  // namespace

int run_run_command(const RunOptions& options) {
  Core core;
  std::string device = choose_device(core, options.device);
  AnyMap properties = parse_properties(options.properties);
  if (options.profile) properties.insert_or_assign(std::string(props::enable_profiling.name), Any(true));
  if (!options.output_dir.empty()) make_output_dir(options.output_dir);

  auto start = Clock::now();
  Model model = options.model_path.empty() ? core.read_model(default_model_bytes())
                                           : core.read_model(options.model_path);
  std::map<std::string, Tensor> given = read_input_files(model, options.inputs);
  apply_shapes(model, options.shapes, given);
  CompiledModel compiled = core.compile_model(model, device, properties);
  double compile_ms = milliseconds_since(start);

  InferRequest request = compiled.create_infer_request();
  std::mt19937_64 rng(options.seed);
  for (const PortInfo& port : compiled.inputs()) {
    auto it = given.find(port.name);
    Tensor tensor = it != given.end() ? it->second : random_value(port, rng);
    request.set_tensor(port.name, tensor);
    std::cout << "input " << port.name << ": " << value_header(tensor)
              << (it != given.end() ? " (from -i)" : " (random)") << '\n';
  }
  start = Clock::now();
  request.infer();
  double infer_ms = milliseconds_since(start);

  for (size_t i = 0; i < compiled.outputs().size(); ++i) {
    Tensor tensor = request.get_output_tensor(i);
    std::cout << "output " << compiled.outputs()[i].name << ": "
              << (tensor.empty() || tensor.is_sequence() ? "" : value_header(tensor) + " ")
              << summarize(tensor) << '\n';
  }
  std::cout << "device " << device << ": read+compile " << compile_ms << " ms, first inference " << infer_ms
            << " ms\n";
  if (!options.output_dir.empty()) write_outputs(options.output_dir, compiled.outputs(), request);
  if (options.profile) print_profile_table(std::cout, request.get_profiling_info());
  return 0;
}

}  // namespace sluice::tool
