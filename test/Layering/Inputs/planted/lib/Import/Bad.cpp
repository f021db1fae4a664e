#include "tfc/Transforms/Passes.h"
