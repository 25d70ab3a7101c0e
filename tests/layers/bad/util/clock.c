/* util/ may use nothing above it. */
#include "engine/plan.h"
