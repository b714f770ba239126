/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCR extension through tpm2-tss, loaded at run time. */
#include <dlfcn.h>
#include <time.h>
#include <tss2_esys.h>
#include <tss2_tcti.h>

#include "tpm2.h"
#include "util.h"

struct esys_syms {
        void *dl;
        TSS2_RC (*Initialize)(ESYS_CONTEXT **, TSS2_TCTI_CONTEXT *, TSS2_ABI_VERSION *);
        void (*Finalize)(ESYS_CONTEXT **);
        TSS2_RC (*Startup)(ESYS_CONTEXT *, TPM2_SU);
        TSS2_RC (*GetCapability)(ESYS_CONTEXT *, ESYS_TR, ESYS_TR, ESYS_TR, TPM2_CAP, UINT32, UINT32, TPMI_YES_NO *,
                                 TPMS_CAPABILITY_DATA **);
        TSS2_RC (*PCR_Extend)(ESYS_CONTEXT *, ESYS_TR, ESYS_TR, ESYS_TR, ESYS_TR, const TPML_DIGEST_VALUES *);
        void (*Free)(void *);
};

static int load_sym(void *dl, const char *lib, const char *name, void *ret) {
        void *p = dlsym(dl, name);
        if (!p)
                return log_error_errno(ENOPKG, "%s has no symbol %s: %s", lib, name, dlerror());
        memcpy(ret, &p, sizeof(p));
        return 0;
}

static int esys_load(struct esys_syms *s) {
        const struct {
                const char *name;
                void *slot;
        } syms[] = {
                { "Esys_Initialize", &s->Initialize },       { "Esys_Finalize", &s->Finalize },
                { "Esys_Startup", &s->Startup },             { "Esys_GetCapability", &s->GetCapability },
                { "Esys_PCR_Extend", &s->PCR_Extend },       { "Esys_Free", &s->Free },
        };

        s->dl = dlopen(VR_TPM2_ESYS_LIB, RTLD_NOW | RTLD_LOCAL);
        if (!s->dl)
                return log_error_errno(ENOPKG, "the TPM library " VR_TPM2_ESYS_LIB " is missing (%s)", dlerror());
        for (size_t i = 0; i < ELEMENTSOF(syms); i++) {
                int r = load_sym(s->dl, VR_TPM2_ESYS_LIB, syms[i].name, syms[i].slot);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct tcti {
        void *dl;
        TSS2_TCTI_CONTEXT *ctx;
        char lib[64];
};

static void tcti_done(struct tcti *t) {
        if (t->ctx) {
                Tss2_Tcti_Finalize(t->ctx);
                free(t->ctx);
        }
        if (t->dl)
                dlclose(t->dl);
        *t = (struct tcti) {};
}

static int tcti_open(const struct vr_tpm2_target *target, struct tcti *t) {
        TSS2_TCTI_INFO_FUNC info_fn;
        const TSS2_TCTI_INFO *info;
        size_t size = 0;
        void *p;
        TSS2_RC rc;

        for (const char *c = target->driver; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
                        return log_error_errno(EINVAL, "invalid TCTI driver name \"%s\"", target->driver);
        snprintf(t->lib, sizeof(t->lib), "libtss2-tcti-%s.so.0", target->driver);
        t->dl = dlopen(t->lib, RTLD_NOW | RTLD_LOCAL);
        if (!t->dl)
                return log_error_errno(ENOPKG, "the TPM library %s is missing (%s)", t->lib, dlerror());
        p = dlsym(t->dl, TSS2_TCTI_INFO_SYMBOL);
        if (!p)
                return log_error_errno(ENOPKG, "%s has no symbol " TSS2_TCTI_INFO_SYMBOL ": %s", t->lib, dlerror());
        memcpy(&info_fn, &p, sizeof(p));
        info = info_fn();
        if (!info || !info->init)
                return log_error_errno(ENOPKG, "%s returned no TCTI information", t->lib);
        rc = info->init(NULL, &size, target->conf);
        if (rc != TSS2_RC_SUCCESS || size == 0)
                return log_error_errno(EIO, "%s: cannot size a TCTI context (TSS2_RC 0x%x)", t->lib, rc);
        t->ctx = calloc(1, size);
        if (!t->ctx)
                return log_error_errno(ENOMEM, "out of memory");
        rc = info->init(t->ctx, &size, target->conf);
        if (rc != TSS2_RC_SUCCESS) {
                free(t->ctx);
                t->ctx = NULL;
                return log_error_errno(EIO, "%s: cannot open the TPM %s (TSS2_RC 0x%x)", t->lib,
                                       target->conf ?: "(default)", rc);
        }
        return 0;
}

/* The banks of pcr that the TPM has active and this module can hash. */
static int active_banks(struct esys_syms *s, ESYS_CONTEXT *ctx, unsigned pcr, const struct vr_pcr_bank **banks,
                        size_t *ret_n) {
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more = 0;
        size_t n = 0;

        TSS2_RC rc = s->GetCapability(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1, &more, &cap);
        if (rc != TSS2_RC_SUCCESS)
                return log_error_errno(EIO, "TPM2_GetCapability(TPM2_CAP_PCRS) failed (TSS2_RC 0x%x)", rc);
        const TPML_PCR_SELECTION *sel = &cap->data.assignedPCR;
        for (UINT32 i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
                const TPMS_PCR_SELECTION *b = &sel->pcrSelections[i];
                if (pcr / 8 >= b->sizeofSelect || !(b->pcrSelect[pcr / 8] & (1u << (pcr % 8))))
                        continue;
                const struct vr_pcr_bank *bank = vr_pcr_bank_by_alg(b->hash);
                if (!bank) {
                        log_warning("the TPM's PCR bank with algorithm 0x%04x is active but not supported: PCR %u is "
                                    "not extended in it", b->hash, pcr);
                        continue;
                }
                if (n < vr_pcr_banks_n)
                        banks[n++] = bank;
        }
        s->Free(cap);
        if (n == 0)
                return log_error_errno(ENOTSUP, "the TPM has no active PCR bank for PCR %u that can be extended", pcr);
        *ret_n = n;
        return 0;
}

int vr_tpm2_extend(const struct vr_tpm2_target *t, unsigned pcr, const void *data, size_t len, struct vr_digest *ret,
                   size_t *ret_n) {
        struct esys_syms s = {};
        struct tcti tc = {};
        ESYS_CONTEXT *ctx = NULL;
        const struct vr_pcr_bank *banks[8];
        size_t n = 0;
        TSS2_RC rc;
        int r;

        if (pcr > VR_MEASURE_PCR_MAX)
                return log_error_errno(EINVAL, "PCR %u does not exist", pcr);
        r = esys_load(&s);
        if (r >= 0)
                r = tcti_open(t, &tc);
        if (r < 0)
                goto out;
        rc = s.Initialize(&ctx, tc.ctx, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                r = log_error_errno(EIO, "cannot initialize the TPM context on %s (TSS2_RC 0x%x)", t->conf ?: "?", rc);
                goto out;
        }
        /* The firmware or the kernel has started it up already, normally. */
        rc = s.Startup(ctx, TPM2_SU_CLEAR);
        if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
                r = log_error_errno(EIO, "TPM2_Startup failed (TSS2_RC 0x%x)", rc);
                goto out;
        }
        r = active_banks(&s, ctx, pcr, banks, &n);
        if (r < 0)
                goto out;

        TPML_DIGEST_VALUES values = { .count = (UINT32) n };
        for (size_t i = 0; i < n; i++) {
                r = vr_digest_data(banks[i], data, len, &ret[i]);
                if (r < 0)
                        goto out;
                values.digests[i].hashAlg = banks[i]->tpm_alg;
                memcpy(&values.digests[i].digest, ret[i].bytes, banks[i]->size);
        }
        rc = s.PCR_Extend(ctx, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &values);
        if (rc != TSS2_RC_SUCCESS) {
                r = log_error_errno(EIO, "TPM2_PCR_Extend of PCR %u failed (TSS2_RC 0x%x)", pcr, rc);
                goto out;
        }
        *ret_n = n;
        r = 0;
out:
        if (ctx)
                s.Finalize(&ctx);
        tcti_done(&tc);
        if (s.dl)
                dlclose(s.dl);
        return r;
}

int vr_tpm2_measure(const struct vr_tpm2_target *t, unsigned pcr, const char *event, const char *log_path) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *record = NULL;
        struct vr_digest d[8];
        size_t n = 0;
        int r;

        /* As systemd: the log is locked before the PCR changes, so that a reader holding
         * the lock sees PCR and log agree. */
        fd = vr_measure_log_open(log_path);
        if (fd < 0)
                return fd;
        r = vr_tpm2_extend(t, pcr, event, strlen(event), d, &n);
        if (r < 0)
                return r;
        r = vr_measure_record(pcr, d, n, event, &record);
        if (r < 0)
                return log_error_errno(r, "cannot format the measurement record: %s", strerror(-r));
        return vr_measure_log_write(fd, log_path, record);
}

static bool exists(const char *path) {
        return access(path, F_OK) == 0;
}

int vr_tpm2_find_device(uint64_t wait_usec, const char **ret_node) {
        uint64_t start = vr_now_usec();

        for (;;) {
                if (exists(VR_TPM2_RM_NODE)) {
                        *ret_node = VR_TPM2_RM_NODE;
                        return 0;
                }
                if (exists(VR_TPM2_RAW_NODE)) {
                        *ret_node = VR_TPM2_RAW_NODE;
                        return 0;
                }
                if (!exists("/sys/firmware/acpi/tables/TPM2") && !exists("/sys/class/tpm/tpm0"))
                        return -ENODEV;
                if (vr_now_usec() - start >= wait_usec)
                        return -ETIMEDOUT;
                usleep(20000);
        }
}
