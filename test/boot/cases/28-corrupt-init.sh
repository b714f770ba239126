#!/bin/bash
# A flipped byte in what the new root runs first: the test root's /sbin/init is a
# "#!/bin/sh" script and /bin/sh leads to /bin/busybox, whose block 300 is corrupted
# after hashing. Nothing reads that block before switch-root, so without the check the
# boot ends in "Failed to execute /sbin/init" (or a crash of init) with no line from
# verity-root; with it, verity-root-check --sysroot refuses the root naming the file
# and the block, in the systemd and in the shell initrd.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

# Block (4096 bytes) of busybox to corrupt: inside the file (busybox-static is well over
# 1 MiB), past what check_init and readahead of its head read.
FILE_BLOCK=300

# data_block IMAGE DATA_UUID FILE N: the data block of the image's data partition
# that holds 4096-byte block N of FILE (erofs stores uncompressed data block-aligned).
# It must lie outside the first and last MiB (and the readahead around them), which
# verity-root-check reads after opening the device anyway.
data_block() {
	python3 - "$@" <<'PY'
import json, subprocess, sys
image, uuid, path, n = sys.argv[1], sys.argv[2].lower(), sys.argv[3], int(sys.argv[4])
table = json.loads(subprocess.run(["sfdisk", "--json", image], check=True,
                                  capture_output=True, text=True).stdout)["partitiontable"]
start = next(p["start"] for p in table["partitions"] if p["uuid"].lower() == uuid) * table.get("sectorsize", 512)
chunk = open(path, "rb").read()[n * 4096:(n + 1) * 4096]
data = open(image, "rb").read()
off = data.find(chunk, start)
size = next(p["size"] for p in table["partitions"] if p["uuid"].lower() == uuid) * table.get("sectorsize", 512)
if len(chunk) != 4096 or off < 0 or (off - start) % 4096 or data.find(chunk, off + 1) >= 0:
    sys.exit(f"block {n} of {path} not found once, block-aligned, in {image}")
block = (off - start) // 4096
if block < 512 or block >= size // 4096 - 512:
    sys.exit(f"data block {block} of {size // 4096} is in the head or tail read after opening")
print(block)
PY
}

make_root "$WORK/root-28" corrupt-init-28
# Filler on either side of busybox (erofs lays /a-pad out first): busybox lies beyond
# the head read after opening, with its readahead, and before the tail.
head -c 3M /dev/urandom > "$WORK/root-28/a-pad"
head -c 3M /dev/urandom > "$WORK/root-28/usr/lib/pad-z"
make_disk "$WORK/probe-28.img" "$WORK/root-28"
block=$(data_block "$WORK/probe-28.img" "$DATA_UUID" "$WORK/root-28/bin/busybox" "$FILE_BLOCK") \
	|| { fail "cannot find block $FILE_BLOCK of busybox in the image"; exit 1; }
make_disk "$WORK/disk-28.img" "$WORK/root-28" --corrupt-data-block "$block"
# mkfs.erofs -T0 lays the same tree out alike: the corrupted block must be busybox's.
if block2=$(data_block "$WORK/disk-28.img" "$DATA_UUID" "$WORK/root-28/bin/busybox" "$FILE_BLOCK" 2>/dev/null); then
	fail "block $FILE_BLOCK of busybox is intact at data block $block2"
	exit 1
fi

want='verity-root: refusing to boot: /sysroot/bin/sh \(-> /sysroot/bin/busybox\) \(the interpreter of /sbin/init\) cannot be read: block '"$FILE_BLOCK"' of the file \(bytes [0-9]+-[0-9]+\): Input/output error; dm-verity reports corrupted data on /dev/mapper/root'

build_initrd "$WORK/initrd-28.img" systemd
log=$(run_qemu 28-corrupt-init "$WORK/initrd-28.img" "roothash=$ROOTHASH" "$WORK/disk-28.img")
expect_not_booted "$log"
expect_console "$log" "$want"
expect_no_console "$log" 'Failed to execute'

build_initrd "$WORK/initrd-28-shell.img" shell
log=$(run_qemu 28-corrupt-init-shell "$WORK/initrd-28-shell.img" "roothash=$ROOTHASH" "$WORK/disk-28.img")
expect_not_booted "$log"
expect_console "$log" "$want"
