/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running another program and waiting for it: mkfs tools, systemctl. */
#pragma once

/* Runs argv[0] (looked up in PATH) with no shell, extra environment entries env (may be
 * NULL, "KEY=value"), stdout sent to stderr so it cannot mix with our own output.
 * Returns 0 on exit status 0; logs naming the tool and returns -EIO otherwise. */
int vr_spawn(char *const argv[], char *const env[]);
