/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/wait.h>

#include "spawn.h"
#include "util.h"

int vr_spawn(char *const argv[], char *const env[]) {
        pid_t pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "cannot fork to run %s: %s", argv[0], strerror(errno));
        if (pid == 0) {
                for (size_t i = 0; env && env[i]; i++)
                        putenv(env[i]);
                if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "waiting for %s: %s", argv[0], strerror(errno));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return log_error_errno(EIO, "%s could not be run (is it installed?)", argv[0]);
        if (WIFEXITED(status))
                return log_error_errno(EIO, "%s failed with exit status %d", argv[0], WEXITSTATUS(status));
        return log_error_errno(EIO, "%s was killed by signal %d", argv[0], WTERMSIG(status));
}
