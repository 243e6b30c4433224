// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* struct_ops_cc.h's congestion control in SEC(".struct_ops"): registered by the map update. */
#include "struct_ops_cc.h"

RAWBPF_CC(".struct_ops")
