// The CPU device's data-movement kernels (kernels_data_movement.cpp) against the reference kernels: views,
// Transpose, Gather, Concat, Split, Slice, Expand, Tile, Pad and Resize, on random shapes, every element
// size, empty tensors, negative axes, and parameters that are constant at planning or only known at run
// time. Data movement is exact: outputs must be bit-for-bit the reference's values.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <numeric>

#include "cpu_kernels_dm_util.hpp"

namespace sluice {
namespace {

using cpu_kernels_test::cpu_takes;
using cpu_kernels_test::expect_runtime_matches_ref;
using cpu_kernels_test::ints;
using cpu_kernels_test::plan_kernel;
using cpu_kernels_test::random_shape;
using cpu_test::expect_cpu_matches_ref;
using cpu_test::random_tensor;
using ops_test::OneNode;
using ET = ElementType;

// One type per element size, plus boolean.
const ET moved_types[] = {ET::u8, ET::f16, ET::f32, ET::i64, ET::boolean};

std::vector<int64_t> random_perm(std::mt19937& rng, size_t rank) {
  std::vector<int64_t> perm(rank);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  return perm;
}

// ------------------------------------------------------------------------------------------------ views

TEST(CpuKernelsDataMovement, ViewsTakeEveryTypeWithConstantShapes) {
  std::mt19937 rng(1);
  for (ET type : moved_types) {
    const Tensor x = random_tensor(type, {2, 3, 4}, rng);
    {
      OneNode one("Reshape", 2, 1, 14);
      one.input(0, type, Shape{2, 3, 4}).constant(1, ints({0, -1}));
      EXPECT_EQ(expect_cpu_matches_ref(one, {x, ints({0, -1})}), "sluice:view");
    }
    for (int64_t axis : {0, 2, -1, 3}) {
      OneNode one("Flatten", 1, 1, 13);
      one.input(0, type, Shape{2, 3, 4}).attr("axis", axis);
      EXPECT_EQ(expect_cpu_matches_ref(one, {x}), "sluice:view");
    }
    {
      OneNode one("Unsqueeze", 2, 1, 13);
      one.input(0, type, Shape{2, 3, 4}).constant(1, ints({-1, 0}));
      EXPECT_EQ(expect_cpu_matches_ref(one, {x, ints({-1, 0})}), "sluice:view");
    }
    {
      OneNode one("Identity", 1, 1, 16);
      one.input(0, type, Shape{2, 3, 4});
      EXPECT_EQ(expect_cpu_matches_ref(one, {x}), "sluice:view");
    }
  }
  const Tensor y = random_tensor(ET::f32, {1, 3, 1, 2}, rng);
  OneNode squeeze13("Squeeze", 2, 1, 13);
  squeeze13.input(0, ET::f32, Shape{1, 3, 1, 2}).constant(1, ints({-2}));
  EXPECT_EQ(expect_cpu_matches_ref(squeeze13, {y, ints({-2})}), "sluice:view");
  OneNode squeeze_all("Squeeze", 1, 1, 13);
  squeeze_all.input(0, ET::f32, Shape{1, 3, 1, 2});
  EXPECT_EQ(expect_cpu_matches_ref(squeeze_all, {y}), "sluice:view");
  OneNode squeeze11("Squeeze", 1, 1, 11);
  squeeze11.input(0, ET::f32, Shape{1, 3, 1, 2}).attr("axes", std::vector<int64_t>{0});
  EXPECT_EQ(expect_cpu_matches_ref(squeeze11, {y}), "sluice:view");
  OneNode reshape1("Reshape", 1, 1, 1);
  reshape1.input(0, ET::f32, Shape{1, 3, 1, 2}).attr("shape", std::vector<int64_t>{6});
  EXPECT_EQ(expect_cpu_matches_ref(reshape1, {y}), "sluice:view");
  const Tensor empty = random_tensor(ET::f32, {0, 3}, rng);
  OneNode reshape_empty("Reshape", 2, 1, 14);
  reshape_empty.input(0, ET::f32, Shape{0, 3}).constant(1, ints({3, 0})).attr("allowzero", int64_t{1});
  EXPECT_EQ(expect_cpu_matches_ref(reshape_empty, {empty, ints({3, 0})}), "sluice:view");
}

TEST(CpuKernelsDataMovement, ReshapeWithAComputedShapeIsNotAView) {
  // The planned shape cannot be trusted when the shape tensor is computed: the view declines.
  std::mt19937 rng(2);
  const Tensor x = random_tensor(ET::f32, {2, 6}, rng);
  OneNode one("Reshape", 2, 1, 14);
  one.input(0, ET::f32, Shape{2, 6}).input(1, ET::i64, Shape{2});
  const auto ref = one.run({x, ints({3, 4})});
  EXPECT_EQ(plan_kernel(one, {x, ints({3, 4})}, {false, false}, ref), nullptr);
  EXPECT_NE(plan_kernel(one, {x, ints({3, 4})}, {false, true}, ref), nullptr);
}

// ------------------------------------------------------------------------------------------- Transpose

TEST(CpuKernelsDataMovement, TransposeRandomShapesPermsAndTypes) {
  std::mt19937 rng(3);
  for (ET type : moved_types) {
    for (int rank = 0; rank <= 5; ++rank) {
      for (int trial = 0; trial < 4; ++trial) {
        const Shape shape = random_shape(rng, rank, 1, 7);
        const auto perm = random_perm(rng, shape.size());
        OneNode one("Transpose", 1, 1, 13);
        one.input(0, type, shape).attr("perm", perm);
        EXPECT_FALSE(expect_cpu_matches_ref(one, {random_tensor(type, shape, rng)}).empty());
      }
    }
  }
}

TEST(CpuKernelsDataMovement, TransposeTiledAndCopyPaths) {
  std::mt19937 rng(4);
  struct Case {
    Shape shape;
    std::vector<int64_t> perm;  // empty: the default (reversed)
    const char* impl;
  };
  const Case cases[] = {
      {{3, 67, 131}, {0, 2, 1}, "sluice:transpose_tiled"},
      {{64, 48}, {}, "sluice:transpose_tiled"},
      {{2, 3, 40, 50}, {0, 2, 3, 1}, "sluice:transpose_tiled"},  // NCHW -> NHWC
      {{2, 40, 50, 3}, {0, 3, 1, 2}, "sluice:transpose_tiled"},  // NHWC -> NCHW
      {{4, 5, 6, 7}, {1, 0, 2, 3}, "sluice:transpose"},          // inner dims stay: row copies
      {{1, 12, 1, 64}, {0, 2, 1, 3}, "sluice:transpose"},        // only extent-1 dims move: one copy
      {{5, 1, 7}, {2, 1, 0}, "sluice:transpose_tiled"},
      {{0, 3, 4}, {2, 0, 1}, "sluice:transpose"},  // empty
      {{300, 257}, {1, 0}, "sluice:transpose_tiled"},
  };
  for (const Case& c : cases) {
    for (ET type : moved_types) {
      OneNode one("Transpose", 1, 1, 13);
      one.input(0, type, c.shape);
      if (!c.perm.empty()) one.attr("perm", c.perm);
      EXPECT_EQ(expect_cpu_matches_ref(one, {random_tensor(type, c.shape, rng)}), c.impl)
          << to_string(c.shape);
    }
  }
}

// ---------------------------------------------------------------------------------------------- Gather

Tensor random_indices(std::mt19937& rng, const Shape& shape, int64_t extent, ET type) {
  std::uniform_int_distribution<int64_t> dist(-extent, extent - 1);
  std::vector<int64_t> values(static_cast<size_t>(shape_size(shape)));
  for (auto& v : values) v = dist(rng);
  Tensor t = ints(values, type);
  return t.reshaped(shape);
}

TEST(CpuKernelsDataMovement, GatherAxesIndexTypesAndNegativeIndices) {
  std::mt19937 rng(5);
  const Shape data_shape{4, 5, 6};
  for (ET type : moved_types) {
    for (int64_t axis : {0, 1, 2, -1, -3}) {
      for (ET index_type : {ET::i32, ET::i64}) {
        for (const Shape& index_shape : {Shape{2, 3}, Shape{}, Shape{7}, Shape{0}}) {
          const int64_t extent = data_shape[static_cast<size_t>(axis < 0 ? axis + 3 : axis)];
          OneNode one("Gather", 2, 1, 13);
          one.input(0, type, data_shape).input(1, index_type, index_shape).attr("axis", axis);
          const Tensor indices = random_indices(rng, index_shape, extent, index_type);
          EXPECT_EQ(expect_cpu_matches_ref(one, {random_tensor(type, data_shape, rng), indices}),
                    "sluice:gather");
        }
      }
    }
  }
  // Embedding-style lookups: long rows, and an empty data axis other than the gathered one.
  OneNode embed("Gather", 2, 1, 13);
  embed.input(0, ET::f32, Shape{100, 768}).input(1, ET::i64, Shape{1, 40});
  EXPECT_EQ(expect_cpu_matches_ref(
                embed, {random_tensor(ET::f32, {100, 768}, rng), random_indices(rng, {1, 40}, 100, ET::i64)}),
            "sluice:gather");
  OneNode empty("Gather", 2, 1, 13);
  empty.input(0, ET::f32, Shape{3, 0, 2}).input(1, ET::i64, Shape{2});
  EXPECT_EQ(expect_cpu_matches_ref(empty, {random_tensor(ET::f32, {3, 0, 2}, rng), ints({2, -3})}),
            "sluice:gather");
}

TEST(CpuKernelsDataMovement, GatherOutOfRangeIndexThrowsNamingNodeIndexAndRange) {
  std::mt19937 rng(6);
  for (int64_t bad : {5, -6, 1000}) {
    OneNode one("Gather", 2, 1, 13);
    one.input(0, ET::f32, Shape{2, 5}).input(1, ET::i64, Shape{3}).attr("axis", int64_t{1});
    const std::vector<Tensor> inputs{random_tensor(ET::f32, {2, 5}, rng), ints({0, bad, 1})};
    try {
      cpu_test::run_cpu_kernel(one, inputs);
      ADD_FAILURE() << "index " << bad << " was accepted";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("Gather node 'n'"), std::string::npos) << message;
      EXPECT_NE(message.find("index " + std::to_string(bad)), std::string::npos) << message;
      EXPECT_NE(message.find("-5 to 4"), std::string::npos) << message;
    }
  }
}

// ---------------------------------------------------------------------------------------- Concat, Split

TEST(CpuKernelsDataMovement, ConcatAxesTypesAndEmptyParts) {
  std::mt19937 rng(7);
  for (ET type : moved_types) {
    for (int64_t axis : {0, 1, 2, -1}) {
      std::vector<Tensor> inputs;
      OneNode one("Concat", 3, 1, 13);
      one.attr("axis", axis);
      for (int64_t i = 0; i < 3; ++i) {
        Shape shape{3, 4, 5};
        shape[static_cast<size_t>(axis < 0 ? axis + 3 : axis)] = i == 1 ? 0 : 1 + i * 2;
        one.input(static_cast<size_t>(i), type, shape);
        inputs.push_back(random_tensor(type, shape, rng));
      }
      EXPECT_EQ(expect_cpu_matches_ref(one, inputs), "sluice:concat");
    }
  }
  // Large parts (split into many pieces across threads), along the outer and the inner axis.
  for (int64_t axis : {0, 1}) {
    OneNode one("Concat", 2, 1, 13);
    one.attr("axis", axis).input(0, ET::f32, Shape{2, 70000}).input(1, ET::f32, Shape{2, 30000});
    if (axis == 0) one.input(1, ET::f32, Shape{3, 70000});
    const Shape second = axis == 0 ? Shape{3, 70000} : Shape{2, 30000};
    EXPECT_EQ(expect_cpu_matches_ref(
                  one, {random_tensor(ET::f32, {2, 70000}, rng), random_tensor(ET::f32, second, rng)}),
              "sluice:concat");
  }
  OneNode concat1("Concat", 2, 1, 1);  // Concat-1: axis defaults to 1
  concat1.input(0, ET::f32, Shape{2, 3}).input(1, ET::f32, Shape{2, 2});
  EXPECT_EQ(expect_cpu_matches_ref(
                concat1, {random_tensor(ET::f32, {2, 3}, rng), random_tensor(ET::f32, {2, 2}, rng)}),
            "sluice:concat");
}

TEST(CpuKernelsDataMovement, SplitFormsOfEveryOpset) {
  std::mt19937 rng(8);
  for (ET type : moved_types) {
    const Tensor x = random_tensor(type, {4, 6, 5}, rng);
    {
      OneNode one("Split", 2, 3, 13);
      one.input(0, type, Shape{4, 6, 5}).constant(1, ints({2, 3, 1})).attr("axis", int64_t{-2});
      EXPECT_EQ(expect_cpu_matches_ref(one, {x, ints({2, 3, 1})}), "sluice:split");
    }
    {
      OneNode one("Split", 1, 3, 18);  // 5 into ceil(5/3) = 2, 2, 1
      one.input(0, type, Shape{4, 6, 5}).attr("axis", int64_t{2}).attr("num_outputs", int64_t{3});
      EXPECT_EQ(expect_cpu_matches_ref(one, {x}), "sluice:split");
    }
    {
      OneNode one("Split", 1, 2, 11);
      one.input(0, type, Shape{4, 6, 5}).attr("split", std::vector<int64_t>{1, 3});
      EXPECT_EQ(expect_cpu_matches_ref(one, {x}), "sluice:split");
    }
    {
      OneNode one("Split", 1, 3, 11);  // even split of axis 1
      one.input(0, type, Shape{4, 6, 5}).attr("axis", int64_t{1});
      EXPECT_EQ(expect_cpu_matches_ref(one, {x}), "sluice:split");
    }
  }
  // A computed 'split' input is checked at run time; a zero-sized part.
  const Tensor x = random_tensor(ET::f32, {3, 7}, rng);
  OneNode one("Split", 2, 3, 13);
  one.input(0, ET::f32, Shape{3, 7}).input(1, ET::i64, Shape{3}).attr("axis", int64_t{1});
  EXPECT_EQ(expect_runtime_matches_ref(one, {x, ints({4, 0, 3})}, {false, false}), "sluice:split");
}

// ------------------------------------------------------------------------------------------------ Slice

TEST(CpuKernelsDataMovement, SliceRandomParametersConstantAndAtRunTime) {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int64_t> bound(-9, 9), step_pick(0, 5), coin(0, 3);
  const int64_t steps_of[] = {-3, -2, -1, 1, 2, 3};
  for (int trial = 0; trial < 120; ++trial) {
    const int rank = 1 + trial % 4;
    const Shape shape = random_shape(rng, rank, 0, 7);
    const ET type = moved_types[trial % 5];
    const ET index_type = trial % 3 == 0 ? ET::i32 : ET::i64;
    auto perm = random_perm(rng, shape.size());
    perm.resize(1 + static_cast<size_t>(trial) % shape.size());
    std::vector<int64_t> starts, ends, axes, steps;
    for (int64_t a : perm) {
      starts.push_back(coin(rng) == 0 ? INT64_MIN : bound(rng));
      ends.push_back(coin(rng) == 0 ? INT64_MAX : bound(rng));
      axes.push_back(coin(rng) == 0 ? a - rank : a);
      steps.push_back(steps_of[step_pick(rng)]);
    }
    if (index_type == ET::i32) {
      for (auto* v : {&starts, &ends}) {
        for (auto& e : *v) e = std::clamp<int64_t>(e, INT32_MIN, INT32_MAX);
      }
    }
    const std::vector<Tensor> inputs{random_tensor(type, shape, rng), ints(starts, index_type),
                                     ints(ends, index_type), ints(axes, index_type), ints(steps, index_type)};
    OneNode one("Slice", 5, 1, 13);
    one.input(0, type, shape);
    for (size_t i = 1; i < 5; ++i) one.constant(i, inputs[i]);
    EXPECT_EQ(expect_cpu_matches_ref(one, inputs), "sluice:slice");
    OneNode runtime("Slice", 5, 1, 13);
    runtime.input(0, type, shape);
    for (size_t i = 1; i < 5; ++i) runtime.input(i, index_type, Shape{static_cast<int64_t>(perm.size())});
    EXPECT_EQ(expect_runtime_matches_ref(runtime, inputs, {false, false, false, false, false}),
              "sluice:slice");
  }
}

TEST(CpuKernelsDataMovement, SliceOptionalInputsAndAttributeForm) {
  std::mt19937 rng(10);
  const Tensor x = random_tensor(ET::f32, {5, 6, 7}, rng);
  OneNode three("Slice", 3, 1, 13);  // no axes, no steps
  three.input(0, ET::f32, Shape{5, 6, 7}).constant(1, ints({1, -4})).constant(2, ints({4, 100}));
  EXPECT_EQ(expect_cpu_matches_ref(three, {x, ints({1, -4}), ints({4, 100})}), "sluice:slice");
  OneNode v1("Slice", 1, 1, 1);
  v1.input(0, ET::f32, Shape{5, 6, 7})
      .attr("starts", std::vector<int64_t>{1, 0})
      .attr("ends", std::vector<int64_t>{-1, 1000})
      .attr("axes", std::vector<int64_t>{2, 0});
  EXPECT_EQ(expect_cpu_matches_ref(v1, {x}), "sluice:slice");
  // A large contiguous slice: rows cut into pieces.
  const Tensor big = random_tensor(ET::f32, {3, 200000}, rng);
  OneNode wide("Slice", 3, 1, 13);
  wide.input(0, ET::f32, Shape{3, 200000}).constant(1, ints({1})).constant(2, ints({3}));
  EXPECT_EQ(expect_cpu_matches_ref(wide, {big, ints({1}), ints({3})}), "sluice:slice");
}

// ----------------------------------------------------------------------------------------- Expand, Tile

TEST(CpuKernelsDataMovement, ExpandBroadcastsConstantAndRunTimeShapes) {
  std::mt19937 rng(11);
  struct Case {
    Shape in;
    std::vector<int64_t> target;
  };
  const Case cases[] = {{{3, 1}, {2, 3, 4}},    {{1}, {5}},          {{2, 1, 4}, {2, 3, 4}},
                        {{3, 4}, {4}},          {{3, 4}, {1, 1}},    {{3, 1}, {3, 0}},
                        {{1, 1, 1}, {2, 1, 3}}, {{2, 3}, {2, 1, 1}}, {{1, 5000}, {3, 5000}}};
  for (const Case& c : cases) {
    for (ET type : moved_types) {
      const Tensor x = random_tensor(type, c.in, rng);
      OneNode one("Expand", 2, 1, 13);
      one.input(0, type, c.in).constant(1, ints(c.target));
      EXPECT_EQ(expect_cpu_matches_ref(one, {x, ints(c.target)}), "sluice:expand");
      OneNode runtime("Expand", 2, 1, 13);
      runtime.input(0, type, c.in).input(1, ET::i64, Shape{static_cast<int64_t>(c.target.size())});
      EXPECT_EQ(expect_runtime_matches_ref(runtime, {x, ints(c.target)}, {false, false}), "sluice:expand");
    }
  }
}

TEST(CpuKernelsDataMovement, TileRepeatsConstantAndRunTime) {
  std::mt19937 rng(12);
  struct Case {
    Shape in;
    std::vector<int64_t> repeats;
  };
  const Case cases[] = {{{2, 3}, {2, 3}}, {{2, 3}, {1, 1}}, {{4}, {3}},      {{2, 1, 3}, {1, 4, 2}},
                        {{2, 3}, {0, 2}}, {{0, 3}, {2, 2}}, {{3, 2}, {5, 1}}};
  for (const Case& c : cases) {
    for (ET type : moved_types) {
      const Tensor x = random_tensor(type, c.in, rng);
      OneNode one("Tile", 2, 1, 13);
      one.input(0, type, c.in).constant(1, ints(c.repeats));
      EXPECT_EQ(expect_cpu_matches_ref(one, {x, ints(c.repeats)}), "sluice:tile");
      OneNode runtime("Tile", 2, 1, 13);
      runtime.input(0, type, c.in).input(1, ET::i64, Shape{static_cast<int64_t>(c.repeats.size())});
      EXPECT_EQ(expect_runtime_matches_ref(runtime, {x, ints(c.repeats)}, {false, false}), "sluice:tile");
    }
  }
}

// -------------------------------------------------------------------------------------------------- Pad

TEST(CpuKernelsDataMovement, PadConstantModeAllForms) {
  std::mt19937 rng(13);
  const std::vector<std::vector<int64_t>> pad_sets{
      {1, 2, 0, 3}, {0, 0, 0, 0}, {-1, 2, 1, -2}, {2, -3, -1, 4}, {0, 1, 0, 1}};
  for (ET type : moved_types) {
    const Tensor x = random_tensor(type, {4, 5}, rng);
    const Tensor value = random_tensor(type, {}, rng);
    for (const auto& pads : pad_sets) {
      OneNode one("Pad", 3, 1, 13);
      one.input(0, type, Shape{4, 5}).constant(1, ints(pads)).constant(2, value);
      EXPECT_EQ(expect_cpu_matches_ref(one, {x, ints(pads), value}), "sluice:pad");
      OneNode runtime("Pad", 3, 1, 13);
      runtime.input(0, type, Shape{4, 5}).input(1, ET::i64, Shape{4}).input(2, type, Shape{});
      EXPECT_EQ(expect_runtime_matches_ref(runtime, {x, ints(pads), value}, {false, false, false}),
                "sluice:pad");
    }
    OneNode zero("Pad", 2, 1, 11);  // no constant_value: zeros
    zero.input(0, type, Shape{4, 5}).constant(1, ints({1, 1, 1, 1}));
    EXPECT_EQ(expect_cpu_matches_ref(zero, {x, ints({1, 1, 1, 1})}), "sluice:pad");
  }
  // Pad-18 with axes, on 3-D with a negative axis.
  const Tensor x3 = random_tensor(ET::f32, {2, 3, 4}, rng);
  OneNode axes("Pad", 4, 1, 18);
  axes.input(0, ET::f32, Shape{2, 3, 4}).constant(1, ints({1, -1, 2, 0})).constant(3, ints({-1, 0}));
  axes.input(2, ET::f32, Shape{});
  EXPECT_EQ(
      expect_cpu_matches_ref(axes, {x3, ints({1, -1, 2, 0}), Tensor::scalar<float>(7.5f), ints({-1, 0})}),
      "sluice:pad");
  // Pad-2: 'pads' and 'value' attributes, f32 and i32.
  for (ET type : {ET::f32, ET::i32}) {
    OneNode v2("Pad", 1, 1, 2);
    v2.input(0, type, Shape{2, 3, 4})
        .attr("pads", std::vector<int64_t>{0, 1, 2, 1, 0, 1})
        .attr("value", 3.0f);
    EXPECT_EQ(expect_cpu_matches_ref(v2, {random_tensor(type, {2, 3, 4}, rng)}), "sluice:pad");
  }
  // Empty input padded, and an input cropped to nothing.
  OneNode empty("Pad", 2, 1, 13);
  empty.input(0, ET::f32, Shape{0, 3}).constant(1, ints({1, 0, 1, 1}));
  EXPECT_EQ(expect_cpu_matches_ref(empty, {random_tensor(ET::f32, {0, 3}, rng), ints({1, 0, 1, 1})}),
            "sluice:pad");
  OneNode cropped("Pad", 2, 1, 13);
  cropped.input(0, ET::f32, Shape{2, 3}).constant(1, ints({0, -3, 0, 0}));
  EXPECT_EQ(expect_cpu_matches_ref(cropped, {random_tensor(ET::f32, {2, 3}, rng), ints({0, -3, 0, 0})}),
            "sluice:pad");
}

TEST(CpuKernelsDataMovement, PadDeclinesOtherModes) {
  std::mt19937 rng(14);
  for (const char* mode : {"reflect", "edge"}) {
    OneNode one("Pad", 2, 1, 13);
    one.input(0, ET::f32, Shape{4, 5}).constant(1, ints({1, 1, 1, 1})).attr("mode", std::string(mode));
    EXPECT_FALSE(cpu_takes(one, {random_tensor(ET::f32, {4, 5}, rng), ints({1, 1, 1, 1})})) << mode;
  }
}

// ----------------------------------------------------------------------------------------------- Resize

Tensor floats(const std::vector<float>& values) {
  return Tensor::from<float>({static_cast<int64_t>(values.size())}, std::span<const float>(values));
}

TEST(CpuKernelsDataMovement, ResizeNearestEveryModeAndType) {
  std::mt19937 rng(15);
  const Shape in{2, 3, 5, 7};
  const std::vector<std::vector<float>> scale_sets{
      {1, 1, 2, 3}, {1, 1, 0.5f, 0.7f}, {1, 1, 1.5f, 1}, {1, 1, 1, 1}};
  for (const char* coord :
       {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"}) {
    for (const char* nearest : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}) {
      for (const auto& scales : scale_sets) {
        for (ET type : {ET::f32, ET::u8, ET::i64}) {
          OneNode one("Resize", std::vector<bool>{true, false, true}, 1, 13);
          one.input(0, type, in).constant(2, floats(scales));
          one.attr("coordinate_transformation_mode", std::string(coord))
              .attr("nearest_mode", std::string(nearest));
          EXPECT_EQ(expect_cpu_matches_ref(one, {random_tensor(type, in, rng), Tensor(), floats(scales)}),
                    "sluice:resize_nearest")
              << coord << " " << nearest;
        }
      }
    }
  }
  // Sizes instead of scales; Resize-10 (asymmetric, floor up / ceil down).
  OneNode sizes("Resize", std::vector<bool>{true, false, false, true}, 1, 13);
  sizes.input(0, ET::f32, in).constant(3, ints({2, 3, 9, 4}));
  EXPECT_EQ(expect_cpu_matches_ref(sizes,
                                   {random_tensor(ET::f32, in, rng), Tensor(), Tensor(), ints({2, 3, 9, 4})}),
            "sluice:resize_nearest");
  for (const auto& scales : scale_sets) {
    OneNode v10("Resize", 2, 1, 10);
    v10.input(0, ET::f32, in).constant(1, floats(scales));
    EXPECT_EQ(expect_cpu_matches_ref(v10, {random_tensor(ET::f32, in, rng), floats(scales)}),
              "sluice:resize_nearest");
  }
}

TEST(CpuKernelsDataMovement, ResizeBilinearCoordinateModes) {
  std::mt19937 rng(16);
  const Shape in{2, 3, 6, 5};
  const std::vector<std::vector<float>> scale_sets{
      {1, 1, 2, 3}, {1, 1, 0.5f, 0.6f}, {1, 1, 1.7f, 1}, {1, 1, 1, 0.4f}};
  for (const char* coord : {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"}) {
    for (int64_t exclude : {0, 1}) {
      for (const auto& scales : scale_sets) {
        OneNode one("Resize", std::vector<bool>{true, false, true}, 1, 13);
        one.input(0, ET::f32, in).constant(2, floats(scales));
        one.attr("mode", std::string("linear"))
            .attr("coordinate_transformation_mode", std::string(coord))
            .attr("exclude_outside", exclude);
        EXPECT_EQ(expect_cpu_matches_ref(one, {random_tensor(ET::f32, in, rng), Tensor(), floats(scales)},
                                         1e-5, 1e-6),
                  "sluice:resize_bilinear")
            << coord;
      }
    }
  }
  OneNode sizes("Resize", std::vector<bool>{true, false, false, true}, 1, 19);
  sizes.input(0, ET::f32, in).constant(3, ints({2, 3, 1, 11})).attr("mode", std::string("linear"));
  EXPECT_EQ(
      expect_cpu_matches_ref(
          sizes, {random_tensor(ET::f32, in, rng), Tensor(), Tensor(), ints({2, 3, 1, 11})}, 1e-5, 1e-6),
      "sluice:resize_bilinear");
  OneNode v10("Resize", 2, 1, 10);
  v10.input(0, ET::f32, in).constant(1, floats({1, 1, 2, 2})).attr("mode", std::string("linear"));
  EXPECT_EQ(expect_cpu_matches_ref(v10, {random_tensor(ET::f32, in, rng), floats({1, 1, 2, 2})}, 1e-5, 1e-6),
            "sluice:resize_bilinear");
}

TEST(CpuKernelsDataMovement, ResizeDeclinesWhatItDoesNotHandle) {
  std::mt19937 rng(17);
  const Shape in{1, 2, 4, 4};
  const Tensor x = random_tensor(ET::f32, in, rng);
  OneNode cubic("Resize", std::vector<bool>{true, false, true}, 1, 13);
  cubic.input(0, ET::f32, in).constant(2, floats({1, 1, 2, 2})).attr("mode", std::string("cubic"));
  EXPECT_FALSE(cpu_takes(cubic, {x, Tensor(), floats({1, 1, 2, 2})}));
  OneNode channels("Resize", std::vector<bool>{true, false, true}, 1, 13);  // scales C
  channels.input(0, ET::f32, in).constant(2, floats({1, 2, 2, 2}));
  EXPECT_FALSE(cpu_takes(channels, {x, Tensor(), floats({1, 2, 2, 2})}));
  OneNode three_d("Resize", std::vector<bool>{true, false, true}, 1, 13);
  three_d.input(0, ET::f32, Shape{2, 4, 4}).constant(2, floats({1, 2, 2}));
  EXPECT_FALSE(cpu_takes(three_d, {random_tensor(ET::f32, {2, 4, 4}, rng), Tensor(), floats({1, 2, 2})}));
  OneNode linear_u8("Resize", std::vector<bool>{true, false, true}, 1, 13);
  linear_u8.input(0, ET::u8, in).constant(2, floats({1, 1, 2, 2})).attr("mode", std::string("linear"));
  EXPECT_FALSE(cpu_takes(linear_u8, {random_tensor(ET::u8, in, rng), Tensor(), floats({1, 1, 2, 2})}));
}

}  // namespace
}  // namespace sluice
