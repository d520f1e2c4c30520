// What a Model handle points at.
#pragma once

#include <memory>
#include <vector>

#include "graph/graph.hpp"
#include "sluice/model.hpp"

namespace sluice::detail {

struct ModelImpl {
  std::shared_ptr<graph::Graph> graph;
  std::vector<PortInfo> inputs;
  std::vector<PortInfo> outputs;
  std::vector<std::string> unsupported;  // see Model::unsupported_operators

  // Resolves operators and infers shapes (unresolved nodes leave their outputs unknown), then refreshes
  // the ports. Throws sluice::Error when shape inference finds the graph inconsistent.
  void analyze();
};

// The ports of a graph, as the API shows them.
std::vector<PortInfo> ports_of(const std::vector<graph::Value*>& values);

}  // namespace sluice::detail
