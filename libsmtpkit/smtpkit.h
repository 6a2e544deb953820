/* smtpkit.h: the one header of libsmtpkit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define __SMTPKIT_INSIDE__

#include <gio/gio.h>

#include "smtpkit-version-macros.h"
#include "smtpkit-version.h"
#include "smtpkit-enums.h"
#include "smtpkit-error.h"
#include "smtpkit-reply.h"
#include "smtpkit-transport.h"
#include "smtpkit-auth-mechanism.h"
#include "smtpkit-client.h"
#include "smtpkit-lmtp-client.h"
#include "smtpkit-envelope.h"
#include "smtpkit-send-result.h"

#undef __SMTPKIT_INSIDE__
