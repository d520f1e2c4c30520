// Differential checks of the CPU device's kernels against the reference kernels, one node at a time:
// plans the node's CPU kernel through the KernelRegistry with the inputs' concrete shapes (inputs that are
// given a value in OneNode::input are constants, as weights would be), runs it, and compares every output
// with the reference kernel's.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "devices/cpu/kernel.hpp"
#include "ops_one_node_harness.hpp"

namespace sluice::cpu_test {

struct CpuRun {
  std::vector<Tensor> outputs;  // plain row-major
  std::string impl;             // the kernel's impl_name(); empty when no CPU kernel took the node
};

// Plans and runs the node's first CPU kernel that accepts it (blocked outputs are reordered to plain).
// The node's inputs must be declared (OneNode::input / constant) with static shapes matching `inputs`.
inline CpuRun run_cpu_kernel(ops_test::OneNode& one, const std::vector<Tensor>& inputs,
                             cpu::CpuConfig config = {}) {
  graph::Node& node = *one.node;
  graph::infer_node(node);
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  cpu::WeightCache weights;  // per run: its keys are the addresses of this node's constants
  cpu::PlanContext ctx{node, {}, {}, config, engine, weights};
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    cpu::ValueInfo info;
    if (node.inputs[i]) {
      info.type = inputs.at(i).type();
      info.shape = inputs.at(i).shape();
      if (node.inputs[i]->is_constant()) info.constant = &node.inputs[i]->constant;
    }
    ctx.inputs.push_back(info);
  }
  for (const graph::Value* out : node.outputs) {
    cpu::ValueInfo info;
    if (out) {
      info.type = out->type;
      info.shape = out->shape.to_shape();
    }
    ctx.outputs.push_back(info);
  }
  CpuRun result;
  const auto* entries = cpu::KernelRegistry::instance().find(node.domain, node.op_type);
  if (!entries) return result;
  std::unique_ptr<cpu::Kernel> kernel;
  for (const auto& entry : *entries) {
    if ((kernel = entry.factory(ctx))) break;
  }
  if (!kernel) return result;
  result.impl = kernel->impl_name();
  std::vector<Tensor> outs;
  for (const auto& info : ctx.outputs) {
    outs.push_back(info.present() ? Tensor(ElementType::u8, {static_cast<int64_t>(info.bytes())}) : Tensor());
  }
  std::vector<Tensor> typed_outs;
  for (size_t o = 0; o < outs.size(); ++o) {
    typed_outs.push_back(outs[o] ? Tensor(ctx.outputs[o].type, ctx.outputs[o].shape, outs[o].data())
                                 : Tensor());
  }
  std::vector<uint8_t> scratch(kernel->scratch_bytes() + 64);
  void* aligned =
      reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  dnnl::stream stream(engine);
  ops_test::NoSubgraphs env;
  auto state = kernel->make_state();
  if (kernel->is_view()) {
    typed_outs[0] = inputs[0].reshaped(ctx.outputs[0].shape);
  } else {
    cpu::RunContext run{inputs, typed_outs, aligned, &stream, &env};
    kernel->run(run, state.get());
    stream.wait();
  }
  for (size_t o = 0; o < typed_outs.size(); ++o) {
    if (!typed_outs[o] || !ctx.outputs[o].blocked()) {
      result.outputs.push_back(typed_outs[o] ? typed_outs[o].clone() : Tensor());
      continue;
    }
    Tensor plain(ctx.outputs[o].type, ctx.outputs[o].shape);
    dnnl::memory from(ctx.outputs[o].md, engine, typed_outs[o].data());
    dnnl::memory to(cpu::plain_md(plain.type(), plain.shape()), engine, plain.data());
    dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
    result.outputs.push_back(plain);
  }
  return result;
}

// Values of a tensor as doubles, for any numeric or boolean type.
inline double element_as_double(const Tensor& t, int64_t i) {
  switch (t.type()) {
    case ElementType::f32: return t.data<float>()[i];
    case ElementType::f64: return t.data<double>()[i];
    case ElementType::f16: return static_cast<float>(t.data<float16>()[i]);
    case ElementType::bf16: return static_cast<float>(t.data<bfloat16>()[i]);
    case ElementType::i8: return t.data<int8_t>()[i];
    case ElementType::u8: return t.data<uint8_t>()[i];
    case ElementType::i16: return t.data<int16_t>()[i];
    case ElementType::u16: return t.data<uint16_t>()[i];
    case ElementType::i32: return t.data<int32_t>()[i];
    case ElementType::u32: return t.data<uint32_t>()[i];
    case ElementType::i64: return static_cast<double>(t.data<int64_t>()[i]);
    case ElementType::u64: return static_cast<double>(t.data<uint64_t>()[i]);
    case ElementType::boolean: return t.data<bool>()[i] ? 1 : 0;
    default: ADD_FAILURE() << "element_as_double: type " << to_string(t.type()); return 0;
  }
}

// Runs the node on its CPU kernel and on its reference kernel and expects the same outputs: same types
// and shapes, and |cpu - ref| <= atol + rtol * |ref| per element. Expects a CPU kernel (not the fallback)
// to take the node; returns its impl name.
inline std::string expect_cpu_matches_ref(ops_test::OneNode& one, const std::vector<Tensor>& inputs,
                                          double rtol = 1e-5, double atol = 1e-6,
                                          cpu::CpuConfig config = {}) {
  CpuRun cpu = run_cpu_kernel(one, inputs, config);
  EXPECT_FALSE(cpu.impl.empty()) << one.node->describe() << ": no CPU kernel took this case";
  if (cpu.impl.empty()) return {};
  std::vector<Tensor> ref = one.run(inputs);
  EXPECT_EQ(cpu.outputs.size(), ref.size());
  for (size_t o = 0; o < std::min(cpu.outputs.size(), ref.size()); ++o) {
    if (!ref[o]) continue;
    EXPECT_EQ(cpu.outputs[o].type(), ref[o].type()) << "output " << o;
    EXPECT_EQ(cpu.outputs[o].shape(), ref[o].shape()) << "output " << o;
    if (cpu.outputs[o].shape() != ref[o].shape() || cpu.outputs[o].type() != ref[o].type()) continue;
    int failures = 0;
    for (int64_t i = 0; i < ref[o].size() && failures < 5; ++i) {
      const double r = element_as_double(ref[o], i), c = element_as_double(cpu.outputs[o], i);
      const bool both_nan = std::isnan(r) && std::isnan(c);
      if (!both_nan && !(std::abs(c - r) <= atol + rtol * std::abs(r))) {
        ADD_FAILURE() << one.node->describe() << " (" << cpu.impl << ") output " << o << " element " << i
                      << ": cpu " << c << ", ref " << r;
        ++failures;
      }
    }
  }
  return cpu.impl;
}

// A tensor of uniform random values in [lo, hi) (integers are rounded; booleans are x > mid).
inline Tensor random_tensor(ElementType type, const Shape& shape, std::mt19937& rng, double lo = -2,
                            double hi = 2) {
  Tensor t(type, shape);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) {
    const double v = dist(rng);
    switch (type) {
      case ElementType::f32: t.data<float>()[i] = static_cast<float>(v); break;
      case ElementType::f64: t.data<double>()[i] = v; break;
      case ElementType::f16: t.data<float16>()[i] = float16(static_cast<float>(v)); break;
      case ElementType::bf16: t.data<bfloat16>()[i] = bfloat16(static_cast<float>(v)); break;
      case ElementType::i8: t.data<int8_t>()[i] = static_cast<int8_t>(std::lround(v)); break;
      case ElementType::u8: t.data<uint8_t>()[i] = static_cast<uint8_t>(std::lround(std::abs(v))); break;
      case ElementType::i32: t.data<int32_t>()[i] = static_cast<int32_t>(std::lround(v)); break;
      case ElementType::i64: t.data<int64_t>()[i] = std::lround(v); break;
      case ElementType::boolean: t.data<bool>()[i] = v > (lo + hi) / 2; break;
      default: ADD_FAILURE() << "random_tensor: type " << to_string(type); return t;
    }
  }
  return t;
}

}  // namespace sluice::cpu_test
