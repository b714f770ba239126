# shellcheck shell=sh
# Sourced: running commands inside a stack root with /proc, /sys and /dev bound.
# stack_chroot_enter ROOT mounts them (once), stack_chroot_leave ROOT unmounts what
# is mounted under ROOT (callers trap it on EXIT), stack_chroot ROOT CMD... runs CMD.

stack_chroot_enter() {
	for m in proc sys dev; do
		mkdir -p "$1/$m"
		mountpoint -q "$1/$m" || mount --rbind "/$m" "$1/$m"
		mount --make-rslave "$1/$m"
	done
}

stack_chroot_leave() {
	for m in dev sys proc; do
		mountpoint -q "$1/$m" 2>/dev/null || continue
		umount -R "$1/$m" 2>/dev/null || umount -lR "$1/$m" || :
	done
	return 0
}

# stack_chroot_release ROOT DIR...: unmounts the DIRs bound into ROOT (empty ones are
# skipped), then what stack_chroot_enter mounted.
stack_chroot_release() {
	_r=$1; shift
	for _m in "$@"; do
		[ -n "$_m" ] && mountpoint -q "$_r$_m" 2>/dev/null && { umount "$_r$_m" || umount -l "$_r$_m"; }
	done
	stack_chroot_leave "$_r"
}

stack_chroot() {
	_r=$1; shift
	chroot "$_r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TMPDIR=/tmp "$@"
}
