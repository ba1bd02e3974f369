// Describe and DescribeInContext: what the effect is, its clips and its parameters.
#pragma once

#include "ofx/ofx_api.h"

namespace ned {

OfxStatus describe(OfxImageEffectHandle descriptor);
OfxStatus describeInContext(OfxImageEffectHandle descriptor, OfxPropertySetHandle inArgs);

}  // namespace ned
