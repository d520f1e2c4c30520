#include "graph/op_registry.hpp"

#include <gtest/gtest.h>

using namespace sluice;
using graph::OpRegistry;

// Every operator version has shape inference and a reference kernel: REF and constant folding rely on the
// kernel, devices and reshape rely on inference.
TEST(OpRegistry, EveryVersionHasInferenceAndReference) {
  const OpRegistry& registry = OpRegistry::instance();
  const auto ops = registry.operators();
  EXPECT_GT(ops.size(), 150u);
  for (const auto& [domain, op_type] : ops) {
    for (int64_t version = 1; version <= 23; ++version) {
      const graph::OpSchema* schema = registry.find(domain, op_type, version);
      if (!schema) continue;
      EXPECT_TRUE(static_cast<bool>(schema->infer))
          << op_type << " v" << schema->since_version << ": no inference";
      EXPECT_TRUE(static_cast<bool>(schema->reference))
          << op_type << " v" << schema->since_version << ": no kernel";
      EXPECT_LE(schema->min_inputs, schema->max_inputs < 0 ? 1 << 30 : schema->max_inputs) << op_type;
    }
  }
}

TEST(OpRegistry, ResolvesByOpsetVersion) {
  const OpRegistry& registry = OpRegistry::instance();
  // Softmax changed its semantics at opset 13 (single axis instead of coercion to 2-D).
  const graph::OpSchema* old_softmax = registry.find("", "Softmax", 11);
  const graph::OpSchema* new_softmax = registry.find("", "Softmax", 13);
  ASSERT_NE(old_softmax, nullptr);
  ASSERT_NE(new_softmax, nullptr);
  EXPECT_LT(old_softmax->since_version, 13);
  EXPECT_EQ(new_softmax->since_version, 13);
  EXPECT_EQ(registry.find("", "Softmax", 0), nullptr);
  EXPECT_EQ(registry.find("", "NoSuchOp", 17), nullptr);
  EXPECT_EQ(registry.find("com.example", "Relu", 17), nullptr);
}
