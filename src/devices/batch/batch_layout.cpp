#include "devices/batch/batch_layout.hpp"

#include <map>

#include "sluice/error.hpp"

namespace sluice::batch {

namespace {

// The index of 'N' in a layout string ("NCHW" -> 0, "?N..." -> 1); throws when there is none.
size_t batch_axis_of(const std::string& layout, const std::string& port) {
  const size_t ellipsis = layout.find("...");
  SLUICE_CHECK(ellipsis == std::string::npos || ellipsis + 3 == layout.size(), "LAYOUT '", layout, "' of '",
               port, "': \"...\" may only end a layout");
  const std::string dims = layout.substr(0, ellipsis);
  for (char c : dims) {
    SLUICE_CHECK(std::isalpha(static_cast<unsigned char>(c)) || c == '?', "LAYOUT '", layout, "' of '", port,
                 "': '", std::string(1, c), "' is not a dimension letter or '?'");
  }
  const size_t n = dims.find('N');
  SLUICE_CHECK(n != std::string::npos, "LAYOUT '", layout, "' of '", port,
               "' has no batch dimension: mark it with 'N'");
  SLUICE_CHECK(dims.find('N', n + 1) == std::string::npos, "LAYOUT '", layout, "' of '", port,
               "' has more than one 'N'");
  return n;
}

// The batch axis of every port name named by `layout`; "" holds the bare layout, if any.
std::map<std::string, std::string> parse_layout(const std::vector<std::string>& layout, const Model& model) {
  std::map<std::string, std::string> by_port;
  for (const std::string& entry : layout) {
    const size_t colon = entry.rfind(':');
    const std::string port = colon == std::string::npos ? "" : entry.substr(0, colon);
    const std::string value = colon == std::string::npos ? entry : entry.substr(colon + 1);
    if (!port.empty()) {
      bool known = false;
      for (const auto& p : model.inputs()) known = known || p.name == port;
      for (const auto& p : model.outputs()) known = known || p.name == port;
      SLUICE_CHECK(known, "LAYOUT entry '", entry, "': the model has no input or output '", port, "'");
    }
    SLUICE_CHECK(by_port.emplace(port, value).second, "LAYOUT names ", port.empty() ? "a bare layout" : port,
                 " twice");
  }
  return by_port;
}

size_t axis_for(const std::map<std::string, std::string>& layout, const std::string& port) {
  auto it = layout.find(port);
  if (it == layout.end()) it = layout.find("");
  return it == layout.end() ? 0 : batch_axis_of(it->second, port);
}

std::string why_not(const std::string& what) {
  return "the model cannot be batched: " + what +
         " (BATCH gathers requests along each port's batch dimension: dimension 0, or the 'N' of a LAYOUT "
         "property such as LAYOUT=\"x:?N...\")";
}

// BATCH gathers plain tensors of fixed-size elements; sequences, optionals and strings cannot be cut into
// slots of one buffer.
void check_batchable_kind(const PortInfo& port, const char* kind) {
  SLUICE_CHECK(!port.sequence && !port.optional && port.type != ElementType::string,
               why_not(std::string(kind) + " '" + port.name + "' is " +
                       (port.sequence   ? "a sequence"
                        : port.optional ? "optional"
                                        : "a string tensor") +
                       "; only tensors of numbers can be batched"));
}

}  // namespace

BatchLayout find_batch_layout(const Model& model, const std::vector<std::string>& layout, int64_t batch) {
  SLUICE_CHECK(batch >= 1, "BATCH: the batch size must be at least 1; got ", batch);
  const auto by_port = parse_layout(layout, model);
  BatchLayout out;

  // One request: each input's batch dimension as the model has it (a dynamic one set to 1).
  std::map<std::string, PartialShape> one, many;
  for (const PortInfo& port : model.inputs()) check_batchable_kind(port, "input");
  for (const PortInfo& port : model.outputs()) check_batchable_kind(port, "output");
  for (const PortInfo& port : model.inputs()) {
    const size_t axis = axis_for(by_port, port.name);
    SLUICE_CHECK(port.shape.rank_known() && axis < static_cast<size_t>(port.shape.rank()),
                 why_not("input '" + port.name + "' of shape " + port.shape.to_string() +
                         " has no dimension " + std::to_string(axis)));
    PartialShape shape = port.shape;
    for (size_t d = 0; d < shape.dims().size(); ++d) {
      SLUICE_CHECK(d == axis || shape[d].is_static(),
                   why_not("dimension " + std::to_string(d) + " of input '" + port.name + "' (shape " +
                           port.shape.to_string() + ") is dynamic; only the batch dimension may be"));
    }
    if (shape[axis].is_dynamic()) shape[axis] = Dimension(1);
    one[port.name] = shape;
    PartialShape batched = shape;
    batched[axis] = Dimension(shape[axis].extent() * batch);
    many[port.name] = batched;
    out.inputs.push_back({port.name, port.type, shape});
    out.input_axes.push_back(axis);
  }

  Model single = model.clone();
  Model batched = model.clone();
  try {
    single.reshape(one);
    batched.reshape(many);
  } catch (const Error& e) {
    throw Error(why_not(std::string("reshaping it failed: ") + e.what()));
  }
  // An output whose batch dimension shape inference could not follow (a model that computes its reshapes
  // from Shape nodes) is taken to have the inputs' batch extent; the underlying device checks it at run
  // time, since the output tensors BATCH binds have that shape.
  int64_t input_extent = -1;
  for (size_t i = 0; i < out.inputs.size(); ++i) {
    const int64_t e = out.inputs[i].shape[out.input_axes[i]].extent();
    input_extent = i == 0 || e == input_extent ? e : -2;
  }
  for (size_t j = 0; j < single.outputs().size(); ++j) {
    PortInfo port = single.outputs()[j];
    const PartialShape& big = batched.outputs()[j].shape;
    const size_t axis = axis_for(by_port, port.name);
    SLUICE_CHECK(port.shape.rank_known() && axis < static_cast<size_t>(port.shape.rank()),
                 why_not("output '" + port.name + "' of shape " + port.shape.to_string() +
                         " has no dimension " + std::to_string(axis)));
    for (size_t d = 0; d < port.shape.dims().size(); ++d) {
      SLUICE_CHECK(d == axis || port.shape[d].is_static(),
                   why_not("dimension " + std::to_string(d) + " of output '" + port.name + "' (shape " +
                           port.shape.to_string() + " for one request) is not known before running it"));
    }
    const bool followed = port.shape[axis].is_static();
    if (!followed) {
      SLUICE_CHECK(input_extent > 0,
                   why_not("the batch dimension of output '" + port.name + "' (shape " +
                           port.shape.to_string() + ") is not known, and the inputs' batch extents differ"));
      port.shape[axis] = Dimension(input_extent);
    }
    PartialShape expected = port.shape;
    expected[axis] = followed ? Dimension(port.shape[axis].extent() * batch) : big[axis];
    SLUICE_CHECK(big == expected, why_not("output '" + port.name + "' has shape " + port.shape.to_string() +
                                          " for one request but " + big.to_string() + " for " +
                                          std::to_string(batch) + "; expected " + expected.to_string()));
    out.outputs.push_back(port);
    out.output_axes.push_back(axis);
  }
  return out;
}

Model make_batchable_model(const Model& model, const BatchLayout& layout) {
  std::map<std::string, PartialShape> shapes;
  for (size_t i = 0; i < layout.inputs.size(); ++i) {
    PartialShape shape = layout.inputs[i].shape;
    shape[layout.input_axes[i]] = Dimension::dynamic();
    shapes[layout.inputs[i].name] = shape;
  }
  Model out = model.clone();
  out.reshape(shapes);
  return out;
}

}  // namespace sluice::batch
