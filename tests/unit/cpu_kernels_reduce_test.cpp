// The CPU device's reductions (kernels_reduce.cpp) against the reference kernels: every Reduce* kind the
// device takes, with axes as attribute (old opsets) or input (constant or only known at run time),
// keepdims, noop_with_empty_axes, negative axes, every fast path (rows, columns, middle axis, long rows cut
// into pieces) and the general walk, empty tensors, NaN, and ArgMax/ArgMin with ties and NaN.
#include <gtest/gtest.h>

#include <limits>

#include "cpu_kernels_dm_util.hpp"

namespace sluice {
namespace {

using cpu_kernels_test::cpu_takes;
using cpu_kernels_test::expect_runtime_matches_ref;
using cpu_kernels_test::ints;
using cpu_test::expect_cpu_matches_ref;
using cpu_test::random_tensor;
using ops_test::OneNode;
using ET = ElementType;

const char* const f32_ops[] = {"ReduceSum",  "ReduceMean", "ReduceMax",      "ReduceMin",
                               "ReduceProd", "ReduceL2",   "ReduceSumSquare"};
const char* const i64_ops[] = {"ReduceSum", "ReduceMax", "ReduceMin"};

// The axes input form's opset: 13 for ReduceSum, 18 for the others.
int64_t input_opset(const std::string& op) { return op == "ReduceSum" ? 13 : 18; }

// Values near 1 so that products stay finite and sums do not cancel to nothing.
Tensor data_for(const std::string& op, ET type, const Shape& shape, std::mt19937& rng) {
  if (type == ET::i64) return random_tensor(type, shape, rng, -1000, 1000);
  if (op == "ReduceProd") return random_tensor(type, shape, rng, 0.9, 1.1);
  return random_tensor(type, shape, rng, -2, 2);
}

struct AxesCase {
  Shape shape;
  std::vector<int64_t> axes;
};

// Rows, columns, middle, general, all, negative, extent-1 dims, long rows.
const AxesCase axes_cases[] = {
    {{4, 5, 6}, {2}},       {{4, 5, 6}, {0}},
    {{4, 5, 6}, {1}},       {{4, 5, 6}, {0, 2}},
    {{4, 5, 6}, {}},        {{4, 5, 6}, {-1, -2}},
    {{3, 1, 4, 1}, {1, 3}}, {{2, 3, 4, 5}, {1, 3}},
    {{2, 3, 4, 5}, {0, 1}}, {{7}, {0}},
    {{300, 7}, {0}},        {{2, 3, 1000}, {0, 2}},
    {{2, 300000}, {1}},     {{600000}, {0}},
    {{1, 1}, {0}},
};

TEST(CpuKernelsReduce, EveryKindAxesAsInputKeepdimsAndTypes) {
  std::mt19937 rng(21);
  for (const char* op : f32_ops) {
    for (ET type : {ET::f32, ET::i64}) {
      if (type == ET::i64 &&
          std::find(std::begin(i64_ops), std::end(i64_ops), std::string(op)) == std::end(i64_ops)) {
        continue;
      }
      for (const AxesCase& c : axes_cases) {
        for (int64_t keepdims : {0, 1}) {
          const Tensor x = data_for(op, type, c.shape, rng);
          OneNode one(op, 2, 1, input_opset(op));
          one.input(0, type, c.shape).constant(1, ints(c.axes)).attr("keepdims", keepdims);
          EXPECT_EQ(expect_cpu_matches_ref(one, {x, ints(c.axes)}, 1e-5, 1e-5), "sluice:reduce")
              << op << " " << to_string(c.shape) << " axes " << to_string(Shape(c.axes));
        }
      }
    }
  }
}

TEST(CpuKernelsReduce, AxesAttributeFormsOfOldOpsets) {
  std::mt19937 rng(22);
  for (const char* op : f32_ops) {
    for (int64_t opset : {1, 11, 13}) {
      if (opset == 13 && std::string(op) == "ReduceSum") continue;  // input form from 13
      for (const AxesCase& c : axes_cases) {
        std::vector<int64_t> axes = c.axes;
        if (opset == 1) {
          for (auto& a : axes) a = a < 0 ? a + static_cast<int64_t>(c.shape.size()) : a;
        }
        OneNode one(op, 1, 1, opset);
        one.input(0, ET::f32, c.shape);
        if (!axes.empty()) one.attr("axes", axes);
        EXPECT_EQ(expect_cpu_matches_ref(one, {data_for(op, ET::f32, c.shape, rng)}, 1e-5, 1e-5),
                  "sluice:reduce")
            << op << " opset " << opset;
      }
    }
  }
}

TEST(CpuKernelsReduce, AxesOnlyKnownAtRunTime) {
  std::mt19937 rng(23);
  for (const char* op : f32_ops) {
    for (const AxesCase& c : axes_cases) {
      if (c.axes.empty()) continue;
      OneNode one(op, 2, 1, input_opset(op));
      one.input(0, ET::f32, c.shape).input(1, ET::i64, Shape{static_cast<int64_t>(c.axes.size())});
      EXPECT_EQ(expect_runtime_matches_ref(one, {data_for(op, ET::f32, c.shape, rng), ints(c.axes)},
                                           {false, false}, 1e-5, 1e-5),
                "sluice:reduce")
          << op;
    }
  }
}

TEST(CpuKernelsReduce, NoAxesAndNoopWithEmptyAxes) {
  std::mt19937 rng(24);
  for (const char* op : f32_ops) {
    for (int64_t noop : {0, 1}) {
      const Tensor x = data_for(op, ET::f32, {3, 4}, rng);
      OneNode absent(op, 1, 1, input_opset(op));  // no axes input
      absent.input(0, ET::f32, Shape{3, 4}).attr("noop_with_empty_axes", noop);
      EXPECT_EQ(expect_cpu_matches_ref(absent, {x}, 1e-5, 1e-5), "sluice:reduce") << op;
      OneNode empty(op, 2, 1, input_opset(op));  // an empty axes input
      empty.input(0, ET::f32, Shape{3, 4}).constant(1, ints({})).attr("noop_with_empty_axes", noop);
      EXPECT_EQ(expect_cpu_matches_ref(empty, {x, ints({})}, 1e-5, 1e-5), "sluice:reduce") << op;
    }
  }
}

TEST(CpuKernelsReduce, EmptyTensorsGiveIdentitiesOrNothing) {
  std::mt19937 rng(25);
  for (const char* op : f32_ops) {
    for (const AxesCase& c : {AxesCase{{3, 0, 4}, {1}}, AxesCase{{3, 0, 4}, {0}}, AxesCase{{0, 2}, {}}}) {
      for (int64_t keepdims : {0, 1}) {
        OneNode one(op, 2, 1, input_opset(op));
        one.input(0, ET::f32, c.shape).constant(1, ints(c.axes)).attr("keepdims", keepdims);
        // Max and min of nothing are -inf and +inf: compared by the helper that matches infinities.
        EXPECT_EQ(expect_runtime_matches_ref(one, {random_tensor(ET::f32, c.shape, rng), ints(c.axes)},
                                             {false, true}),
                  "sluice:reduce")
            << op << " " << to_string(c.shape);
      }
    }
  }
}

TEST(CpuKernelsReduce, NaNPropagatesThroughMaxAndMin) {
  std::mt19937 rng(26);
  for (const char* op : {"ReduceMax", "ReduceMin", "ReduceSum"}) {
    for (const AxesCase& c : {AxesCase{{4, 40}, {1}}, AxesCase{{40, 4}, {0}}, AxesCase{{4, 5, 6}, {0, 2}}}) {
      Tensor x = random_tensor(ET::f32, c.shape, rng);
      x.data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
      x.data<float>()[x.size() - 1] = std::numeric_limits<float>::infinity();
      OneNode one(op, 2, 1, 18);
      one.input(0, ET::f32, c.shape).constant(1, ints(c.axes));
      EXPECT_EQ(expect_runtime_matches_ref(one, {x, ints(c.axes)}, {false, true}, 1e-5, 1e-5),
                "sluice:reduce")
          << op;
    }
  }
}

TEST(CpuKernelsReduce, DeclinesOtherTypesAndKinds) {
  std::mt19937 rng(27);
  OneNode mean_i64("ReduceMean", 1, 1, 18);
  mean_i64.input(0, ET::i64, Shape{3, 4});
  EXPECT_FALSE(cpu_takes(mean_i64, {random_tensor(ET::i64, {3, 4}, rng)}));
  OneNode sum_f16("ReduceSum", 1, 1, 13);
  sum_f16.input(0, ET::f16, Shape{3, 4});
  EXPECT_FALSE(cpu_takes(sum_f16, {random_tensor(ET::f16, {3, 4}, rng)}));
}

// ---------------------------------------------------------------------------------------- ArgMax/ArgMin

// Small integers as floats: many ties.
Tensor tied(const Shape& shape, std::mt19937& rng) {
  Tensor t = random_tensor(ET::f32, shape, rng, -3, 3);
  for (float& v : t.values<float>()) v = std::round(v);
  return t;
}

TEST(CpuKernelsReduce, ArgMaxArgMinAxesTiesAndSelectLast) {
  std::mt19937 rng(28);
  for (const char* op : {"ArgMax", "ArgMin"}) {
    for (const Shape& shape : {Shape{4, 5, 6}, Shape{7}, Shape{3, 300}, Shape{2, 600, 3}}) {
      const auto rank = static_cast<int64_t>(shape.size());
      for (int64_t axis = -rank; axis < rank; ++axis) {
        for (int64_t keepdims : {0, 1}) {
          for (int64_t last : {0, 1}) {
            OneNode one(op, 1, 1, 13);
            one.input(0, ET::f32, shape)
                .attr("axis", axis)
                .attr("keepdims", keepdims)
                .attr("select_last_index", last);
            EXPECT_EQ(expect_cpu_matches_ref(one, {tied(shape, rng)}),
                      std::string(op) == "ArgMax" ? "sluice:argmax" : "sluice:argmin");
          }
        }
      }
    }
  }
  // NaN is the extreme; the first (or last) NaN wins.
  for (const char* op : {"ArgMax", "ArgMin"}) {
    for (int64_t axis : {0, 1}) {
      for (int64_t last : {0, 1}) {
        Tensor x = tied({6, 6}, rng);
        for (int64_t i : {3, 9, 14, 16, 21, 33}) x.data<float>()[i] = std::numeric_limits<float>::quiet_NaN();
        OneNode one(op, 1, 1, 13);
        one.input(0, ET::f32, Shape{6, 6}).attr("axis", axis).attr("select_last_index", last);
        EXPECT_FALSE(expect_cpu_matches_ref(one, {x}).empty());
      }
    }
  }
  OneNode v1("ArgMax", 1, 1, 1);  // opset 1: no select_last_index
  v1.input(0, ET::f32, Shape{3, 4}).attr("axis", int64_t{1});
  EXPECT_EQ(expect_cpu_matches_ref(v1, {tied({3, 4}, rng)}), "sluice:argmax");
}

}  // namespace
}  // namespace sluice
