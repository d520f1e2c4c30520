// Where a model's batch dimension is, for automatic batching: which dimension of every input and output
// gathers independent requests, the shapes of one request, and the model the underlying device compiles.
#pragma once

#include <string>
#include <vector>

#include "sluice/model.hpp"

namespace sluice::batch {

struct BatchLayout {
  // One request's ports: the model's own, with the batch dimension fixed (a dynamic one to 1) and every
  // shape static.
  std::vector<PortInfo> inputs, outputs;
  // The batch dimension of each port (the 'N' of its LAYOUT entry, else 0).
  std::vector<size_t> input_axes, output_axes;
};

// Finds the batch dimension of every input and output of `model` and checks that `batch` requests can be
// computed as one inference along it: every other dimension of an input is static, the model reshaped to
// `batch` times one request's extent gives outputs of `batch` times theirs, and nothing else changes.
// `layout` is the LAYOUT property: "port:LAYOUT" entries, or one bare layout for every port; a layout is
// one letter or '?' per dimension, optionally ending in "...", with 'N' marking the batch ("NCHW", "?N...").
// Throws sluice::Error saying which port cannot be batched, and why.
BatchLayout find_batch_layout(const Model& model, const std::vector<std::string>& layout, int64_t batch);

// The model the underlying device compiles: a clone whose inputs' batch dimensions are dynamic, so that
// one compiled model runs both a whole batch and a single request.
Model make_batchable_model(const Model& model, const BatchLayout& layout);

}  // namespace sluice::batch
