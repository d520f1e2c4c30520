// The whole public API of Sluice.
#pragma once

#include "sluice/async_infer_queue.hpp"
#include "sluice/compiled_model.hpp"
#include "sluice/core.hpp"
#include "sluice/element_type.hpp"
#include "sluice/error.hpp"
#include "sluice/infer_request.hpp"
#include "sluice/model.hpp"
#include "sluice/properties.hpp"
#include "sluice/shape.hpp"
#include "sluice/tensor.hpp"
