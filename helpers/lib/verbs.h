/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs of the verity-root CLI; each returns the process exit status. */
#pragma once

int vr_verb_inspect(int argc, char **argv);
int vr_verb_mkimage(int argc, char **argv);
int vr_verb_cmdline(int argc, char **argv);
int vr_verb_join_signature(int argc, char **argv);
int vr_verb_predict_pcr(int argc, char **argv);
int vr_verb_ipe_policy(int argc, char **argv);
