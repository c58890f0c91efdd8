/* The isolation and limits probe the engine tests put into their image (built with
 * `gcc -static` at test time, so the image needs no libc). Each mode prints one
 * `name: result` line per check, the result being `ok` or the errno's name, so two engines'
 * outputs compare line by line.
 *
 *   probe sec          syscalls the default confinement must refuse (or allow, as Docker)
 *   probe alloc MIB    allocates and touches MIB mebibytes, printing progress
 *   probe fork N       forks up to N sleeping children; prints how many forks succeeded
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1

static void report(const char *name, long rc) {
    if (rc >= 0)
        printf("%s: ok\n", name);
    else
        printf("%s: %s\n", name, strerrorname_np(errno));
    fflush(stdout);
}

static int sec(void) {
    report("keyctl", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "probe"));
    report("add_key", syscall(SYS_add_key, "user", "probe", "x", 1, -3 /* session */));
    report("socket_af_alg", socket(AF_ALG, SOCK_SEQPACKET, 0));
    report("unshare_user", unshare(CLONE_NEWUSER));
    report("unshare_mount", unshare(CLONE_NEWNS));
    report("unshare_net", unshare(CLONE_NEWNET));
    report("mount_tmpfs", mount("none", "/mnt", "tmpfs", 0, NULL));
    report("umount_proc", umount2("/proc", MNT_DETACH));
    report("chroot", chroot("/"));
    report("sethostname", sethostname("probe", 5));
    report("swapoff", swapoff("/nonexistent"));
    report("reboot_cad", syscall(SYS_reboot, 0xfee1dead, 672274793, 0 /* CAD off */, NULL));
    report("init_module", syscall(SYS_init_module, NULL, 0, ""));
    report("bpf", syscall(SYS_bpf, 0, NULL, 0));
    report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    unlink("/tmp/probe-blk");
    report("mknod_block", mknod("/tmp/probe-blk", S_IFBLK | 0600, makedev(8, 0)));
    report("open_block", open("/tmp/probe-blk", O_RDONLY));
    unlink("/tmp/probe-chr");
    report("mknod_mem", mknod("/tmp/probe-chr", S_IFCHR | 0600, makedev(1, 1)));
    report("open_mem", open("/tmp/probe-chr", O_RDONLY));
    report("open_dev_sda", open("/dev/sda", O_RDONLY));
    report("open_dev_kmsg", open("/dev/kmsg", O_RDONLY));
    return 0;
}

static int alloc(long mib) {
    for (long i = 1; i <= mib; i++) {
        char *p = malloc(1 << 20);
        if (!p) {
            printf("alloc: failed at %ld MiB\n", i);
            return 1;
        }
        memset(p, 0x5a, 1 << 20);
        if (i % 8 == 0) {
            printf("alloc: %ld MiB\n", i);
            fflush(stdout);
        }
    }
    printf("alloc: done\n");
    return 0;
}

static int forks(long n) {
    long ok = 0;
    pid_t kids[4096];
    for (long i = 0; i < n && i < 4096; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            sleep(30);
            _exit(0);
        }
        if (pid < 0)
            break;
        kids[ok++] = pid;
    }
    printf("forks: %ld\n", ok);
    fflush(stdout);
    for (long i = 0; i < ok; i++)
        kill(kids[i], SIGKILL);
    while (wait(NULL) > 0) {
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "sec") == 0)
        return sec();
    if (argc >= 3 && strcmp(argv[1], "alloc") == 0)
        return alloc(atol(argv[2]));
    if (argc >= 3 && strcmp(argv[1], "fork") == 0)
        return forks(atol(argv[2]));
    fprintf(stderr, "usage: probe sec | alloc MIB | fork N\n");
    return 2;
}
