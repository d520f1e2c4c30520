// Test helpers for the CPU data-movement, reduction and normalization kernels, beyond
// cpu_kernel_harness.hpp: planning with inputs that are NOT constants although their values decide the
// output shape (Slice starts, Expand shapes, Pad pads, Reduce axes), as a plan of a graph whose shapes
// were propagated sees them; and plain random shapes.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "cpu_kernel_harness.hpp"

namespace sluice::cpu_kernels_test {

// Plans the node's first CPU kernel that accepts it, with input i constant only where `constant[i]` (the
// value is then inputs[i]); output types and shapes are the reference's. nullptr when none accepts.
inline std::unique_ptr<cpu::Kernel> plan_kernel(ops_test::OneNode& one, const std::vector<Tensor>& inputs,
                                                const std::vector<bool>& constant,
                                                const std::vector<Tensor>& ref_outputs) {
  graph::Node& node = *one.node;
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  static cpu::WeightCache weights;
  static const cpu::CpuConfig config;
  cpu::PlanContext ctx{node, {}, {}, config, engine, weights};
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    cpu::ValueInfo info;
    if (node.inputs[i] && i < inputs.size() && inputs[i]) {
      info.type = inputs[i].type();
      info.shape = inputs[i].shape();
      if (i < constant.size() && constant[i]) info.constant = &inputs[i];
    }
    ctx.inputs.push_back(info);
  }
  for (size_t o = 0; o < node.outputs.size(); ++o) {
    cpu::ValueInfo info;
    if (node.outputs[o] && o < ref_outputs.size() && ref_outputs[o]) {
      info.type = ref_outputs[o].type();
      info.shape = ref_outputs[o].shape();
    }
    ctx.outputs.push_back(info);
  }
  const auto* entries = cpu::KernelRegistry::instance().find(node.domain, node.op_type);
  if (!entries) return nullptr;
  for (const auto& entry : *entries) {
    if (auto kernel = entry.factory(ctx)) return kernel;
  }
  return nullptr;
}

// Runs a planned kernel on `inputs` into outputs shaped like `ref_outputs`.
inline std::vector<Tensor> run_planned(const cpu::Kernel& kernel, const std::vector<Tensor>& inputs,
                                       const std::vector<Tensor>& ref_outputs) {
  std::vector<Tensor> outs;
  outs.reserve(ref_outputs.size());
  for (const Tensor& r : ref_outputs) outs.push_back(r ? Tensor(r.type(), r.shape()) : Tensor());
  std::vector<uint8_t> scratch(kernel.scratch_bytes() + 64);
  void* aligned = scratch.data();
  size_t space = scratch.size();
  std::align(64, kernel.scratch_bytes(), aligned, space);
  ops_test::NoSubgraphs env;
  auto state = kernel.make_state();
  cpu::RunContext run{inputs, outs, aligned, nullptr, &env};
  kernel.run(run, state.get());
  return outs;
}

// Expects `got` to equal `want` within atol + rtol * |want| per element (NaN matches NaN).
inline void expect_close(const std::vector<Tensor>& got, const std::vector<Tensor>& want,
                         const std::string& what, double rtol = 0, double atol = 0) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t o = 0; o < want.size(); ++o) {
    if (!want[o]) continue;
    ASSERT_EQ(got[o].type(), want[o].type()) << what << " output " << o;
    ASSERT_EQ(got[o].shape(), want[o].shape()) << what << " output " << o;
    int failures = 0;
    for (int64_t i = 0; i < want[o].size() && failures < 5; ++i) {
      const double r = cpu_test::element_as_double(want[o], i), c = cpu_test::element_as_double(got[o], i);
      if ((std::isnan(r) && std::isnan(c)) || c == r) continue;  // NaN matches NaN, inf matches inf
      if (!(std::abs(c - r) <= atol + rtol * std::abs(r))) {
        ADD_FAILURE() << what << " output " << o << " element " << i << ": cpu " << c << ", ref " << r;
        ++failures;
      }
    }
  }
}

// Plans with the given inputs constant or not, runs, and compares with the reference; returns the impl
// name (empty, with a failure, when no CPU kernel took the node).
inline std::string expect_runtime_matches_ref(ops_test::OneNode& one, const std::vector<Tensor>& inputs,
                                              const std::vector<bool>& constant, double rtol = 0,
                                              double atol = 0) {
  const std::vector<Tensor> ref = one.run(inputs);
  auto kernel = plan_kernel(one, inputs, constant, ref);
  EXPECT_NE(kernel, nullptr) << one.node->describe() << ": no CPU kernel took this case";
  if (!kernel) return {};
  expect_close(run_planned(*kernel, inputs, ref), ref,
               one.node->describe() + " (" + kernel->impl_name() + ")", rtol, atol);
  return kernel->impl_name();
}

// Whether some CPU kernel takes the node (with every given input constant).
inline bool cpu_takes(ops_test::OneNode& one, const std::vector<Tensor>& inputs) {
  const std::vector<Tensor> ref = one.run(inputs);
  return plan_kernel(one, inputs, std::vector<bool>(inputs.size(), true), ref) != nullptr;
}

// An i64 (or i32) 1-D tensor.
inline Tensor ints(const std::vector<int64_t>& values, ElementType type = ElementType::i64) {
  const auto n = static_cast<int64_t>(values.size());
  if (type == ElementType::i32) {
    std::vector<int32_t> v(values.begin(), values.end());
    return Tensor::from<int32_t>({n}, std::span<const int32_t>(v));
  }
  return Tensor::from<int64_t>({n}, std::span<const int64_t>(values));
}

// A random shape of the given rank with extents in [lo, hi].
inline Shape random_shape(std::mt19937& rng, int rank, int64_t lo = 1, int64_t hi = 6) {
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  Shape s(static_cast<size_t>(rank));
  for (auto& e : s) e = dist(rng);
  return s;
}

}  // namespace sluice::cpu_kernels_test
