/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Records that cross the ring buffer, and the kernel-side map layouts user
 * space reads: the one contract between bpf/ and user/. */
#ifndef YARASNOOP_H
#define YARASNOOP_H

#define YS_TASK_COMM_LEN 16
/* Data bytes per record: a write is split into records of at most this. */
#define YS_CHUNK_MAX 65536
/* -f/--fd takes fds below this. */
#define YS_FD_FILTER_MAX 1024
/* Most iovecs the kernel takes in one writev (UIO_MAXIOV). */
#define YS_IOV_MAX 1024
/* Processes the kernel side may hold stopped at once (lossless) */
#define YS_HELD_MAX 1024
/* Slots of the cgroup array (bpf/maps.bpf.h) */
#define YS_CG_FILTER 0
#define YS_CG_HOLD 1

enum ys_rec_type {
	YS_REC_WRITE = 1,	/* data written to a stream */
	YS_REC_OPEN = 2,	/* a stream's first write: who and what file */
	YS_REC_CLOSE = 3,	/* a stream ended in the kernel's view */
	YS_REC_EXIT = 4,	/* a traced process exited */
	YS_REC_PROC = 5,	/* who a process is: before its first stream, after exec,
				 * rename of its leader, credential change */
	YS_REC_BPF = 6,		/* a traced process called bpf() */
	YS_REC_BLIND = 7,	/* a process wrote by a route that is not scanned */
};

/* A stream is one process's open file (the kernel's struct file), whatever
 * fds point at it. It ends when the process's last fd for the file goes. */
enum ys_close_reason {
	YS_CLOSE_CLOSE = 0,	/* the last fd on it: close(), dup2/dup3 onto it, close_range() */
	YS_CLOSE_REUSE = 1,	/* its struct file now holds another inode: the old file was
				 * closed by a route yarasnoop does not hook */
	YS_CLOSE_EXEC = 2,	/* gone at exec: O_CLOEXEC, or closed before by a route not hooked */
	YS_CLOSE_EXIT = 3,	/* the process exited with the file open */
	YS_CLOSE_UNSEEN = 4,	/* found gone at exit: closed at an unknown time by a route
				 * not hooked (io_uring, ...); its byte count is still exact */
};

/* How the bytes of a write record came: the syscall (or, later, uprobe). */
enum ys_route {
	YS_ROUTE_WRITE = 1,
	YS_ROUTE_WRITEV = 2,
	YS_ROUTE_PWRITE64 = 3,
	YS_ROUTE_PWRITEV = 4,
	YS_ROUTE_PWRITEV2 = 5,
	/* 16 and up: the sockets, vmsplice and TLS routes */
	YS_ROUTE_SENDTO = 16,	/* sendto, and send, which libc makes a sendto */
	YS_ROUTE_SENDMSG = 17,	/* its msghdr's iovecs */
	YS_ROUTE_SENDMMSG = 18,	/* each message's msg_len bytes, from its iovecs */
	YS_ROUTE_VMSPLICE = 19,	/* user iovecs into a pipe */
	YS_ROUTE_TLS = 20,	/* SSL_write & co: a TLS session's plaintext (bpf/tls.bpf.c) */
	/* io_uring requests (bpf/uring.bpf.h): the buffers the kernel imported
	 * at submission, read at completion for the completion's result */
	YS_ROUTE_URING_WRITE = 21,	/* IORING_OP_WRITE */
	YS_ROUTE_URING_WRITEV = 22,	/* IORING_OP_WRITEV */
	YS_ROUTE_URING_SEND = 23,	/* IORING_OP_SEND, SEND_ZC */
	YS_ROUTE_URING_SENDMSG = 24,	/* IORING_OP_SENDMSG, SENDMSG_ZC */
};

enum ys_write_flags {
	YS_W_POS = 1,		/* pos is the file position of data[0] (regular files) */
	YS_W_POS_UNCERTAIN = 2,	/* with YS_W_POS: another task could have moved the file
				 * position between the write and the moment it was read,
				 * so pos may be wrong; see README "File order" */
};

/* Offsets are stream offsets: byte N of a stream is the N-th byte written
 * to it. The kernel reserves [offset, offset + written) for each write
 * before copying, so records lost when the ring is full leave a gap user
 * space can measure exactly. Reserved in the order the writes' exits ran. */
struct ys_rec_write {
	__u32 type;
	__u32 len;		/* data bytes following this header */
	__u64 stream_id;
	__u64 offset;		/* stream offset of data[0] */
	__u64 truncated;	/* bytes after data cut by --capture-max */
	__u64 pos;		/* file position of data[0], with YS_W_POS */
	__u32 tgid;
	__u32 tid;
	__s32 fd;		/* the fd this write went through */
	__u16 flags;		/* enum ys_write_flags */
	__u16 route;		/* enum ys_route */
	/* then len bytes of data */
};

/* Paths walked in the kernel: up to this many components and bytes. */
#define YS_PATH_DEPTH 16
#define YS_PATH_MAX 256

enum ys_path_flags {
	YS_PATH_OK = 1,		/* path holds the file's path from the writer's root */
	YS_PATH_CUT = 2,	/* deeper than YS_PATH_DEPTH or longer: the start is missing */
	YS_PATH_OUTSIDE = 4,	/* not under the writer's root (opened before a chroot,
				 * received from outside): from its mount namespace's root */
};

struct ys_rec_open {
	__u32 type;
	__u32 mode;		/* the file's i_mode */
	__u64 stream_id;
	__u64 ino;
	__u64 key;		/* the stream's key in the kernel's streams map (with
				 * tgid): to read its byte count; never shown */
	__u32 dev;		/* s_dev of the file's superblock */
	__u32 rdev;		/* i_rdev, for devices (ttys) */
	__u32 tgid;
	__u32 tid;
	__s32 fd;		/* the fd of the stream's first write */
	__u32 uid;
	__u32 f_flags;		/* the open file's flags (O_APPEND, ...) */
	__u32 path_flags;
	char comm[YS_TASK_COMM_LEN];
	__u32 path_len;
	__u32 pad;
	/* the path, NUL-terminated; twice the size so the verifier can see
	 * every write stay inside */
	char path[2 * YS_PATH_MAX];
};

struct ys_rec_close {
	__u32 type;
	__u32 reason;		/* enum ys_close_reason */
	__u64 stream_id;
	__u64 bytes;		/* everything written to the stream */
	__u32 tgid;
	__s32 fd;		/* the fd whose close ended it; -1 at exec, exit, unseen */
};

enum ys_proc_reason {
	YS_PROC_FIRST = 1,	/* the process's first stream starts */
	YS_PROC_EXEC = 2,
	YS_PROC_RENAME = 3,	/* prctl(PR_SET_NAME) or /proc/PID/comm, of its leader */
	YS_PROC_CRED = 4,	/* its credentials changed without exec (setuid, ...) */
};

enum ys_proc_flags {
	YS_PROC_CMDLINE = 1,	/* cmdline holds the first bytes of the command line */
	YS_PROC_CMDLINE_CUT = 2,	/* ... which is longer */
};

/* Bytes of the command line a proc record carries. */
#define YS_CMDLINE_MAX 256

struct ys_rec_proc {
	__u32 type;
	__u32 reason;		/* enum ys_proc_reason */
	__u32 tgid;
	__u32 ppid;		/* the real parent's tgid */
	__u32 uid, euid;	/* of the thread that wrote (or exec'd, renamed) */
	__u32 gid, egid;
	__u32 loginuid;		/* audit login uid: who logged in; (u32)-1 unset */
	__u32 sessionid;	/* audit session id; (u32)-1 none */
	__u32 ns_pid;		/* the tgid as its own pid namespace sees it */
	__u32 flags;		/* enum ys_proc_flags */
	__u64 start_ns;		/* when the process started (ns since boot) */
	__u64 mntns;		/* inode number of its mount namespace */
	__u64 pidns;		/* inode number of its pid namespace */
	__u64 cgroup_id;	/* its cgroup v2 (kernfs id) */
	char comm[YS_TASK_COMM_LEN];	/* its leader's */
	__u32 exe_flags;	/* enum ys_path_flags */
	__u32 exe_len;
	__u32 cmdline_len;	/* arguments separated by NULs */
	__u32 cgroup_flags;	/* enum ys_path_flags (YS_PATH_OK, YS_PATH_CUT) */
	__u32 cgroup_len;
	__u32 pad;
	/* each twice its size, for the verifier; NUL-terminated but cmdline */
	char exe[2 * YS_PATH_MAX];	/* from the process's root */
	char cmdline[2 * YS_CMDLINE_MAX];
	char cgroup[2 * YS_PATH_MAX];	/* from the cgroup v2 root */
};

struct ys_rec_bpf {
	__u32 type;
	__u32 cmd;		/* the bpf() command (enum bpf_cmd) */
	__u32 tgid;
	__u32 tid;
	__u32 id;		/* the object it names: a map by fd (the map commands)
				 * or by id, a program or link by id (*_GET_FD_BY_ID);
				 * 0 none or not known */
	__u32 pad;
	char comm[YS_TASK_COMM_LEN];
};

struct ys_rec_exit {
	__u32 type;
	__u32 exit_code;
	__u32 tgid;
	__u32 streams_unseen;	/* streams found closed by a route not hooked: each
				 * also had its close record, reason unseen */
	char comm[YS_TASK_COMM_LEN];
};

/* Why a process is in the traced map. */
enum ys_trace_why {
	YS_WHY_PID = 1,		/* -p */
	YS_WHY_CMD = 2,		/* -- COMMAND */
	YS_WHY_COMM = 3,	/* -C: its leader's name matched at exec, rename or fork */
	YS_WHY_FOLLOW = 4,	/* a child of a traced process, with -f */
};

/* traced: tgid -> */
struct ys_traced {
	__u32 follow;		/* add children at fork */
	__u32 why;		/* enum ys_trace_why */
};

/* streams: (tgid, struct file) -> */
struct ys_skey {
	__u32 tgid;
	__u32 pad;
	__u64 file;		/* struct file *: an identity */
};

enum ys_sval_flags {
	YS_SV_REG = 1,		/* a regular file: writes carry positions */
	YS_SV_OPENING = 2,	/* its open record may not be in the ring yet */
};

struct ys_sval {
	__u64 id;
	__u64 offset;		/* bytes written so far */
	__u64 inode;		/* struct inode * at the stream's start */
	__u64 cred;		/* struct cred * of the last write's thread: while it
				 * stays the same, the credentials are not looked at */
	__u32 mark;		/* sweep epoch (exec, close_range) */
	__u32 flags;		/* enum ys_sval_flags */
	__u32 shared_refs;	/* the file's references when a write last found one
				 * outside the writer's fd table (0: none found) */
	__u32 pad;
};

/* procs: tgid -> per process state, for processes with streams */
struct ys_proc {
	__u32 nstreams;		/* its entries in streams */
	__u32 pad;
	__u64 epoch;		/* the last sweep's mark */
	/* the credentials of its last proc record: a change is news */
	__u32 uid, euid, gid, egid;
};

/* -C and --exclude-comm take up to this many names. */
#define YS_COMM_LIST_MAX 16

/* kstats: per-CPU counters, summed by user space */
struct ys_kstats {
	__u64 writes;		/* writes of traced processes that wrote bytes */
	__u64 bytes_written;	/* bytes those writes wrote */
	__u64 bytes_sent;	/* bytes put in the ring buffer */
	__u64 bytes_dropped;	/* bytes not put there: ring buffer full */
	__u64 bytes_truncated;	/* bytes past --capture-max */
	__u64 bytes_unread;	/* bytes the kernel could not read back */
	__u64 records_dropped;	/* data records lost to a full ring */
	__u64 ctrl_dropped;	/* open/close/exit records lost */
	__u64 bytes_unattributed; /* written while the stream map was full */
	__u64 args_full;	/* writes missed: per-thread argument map full */
	__u64 wakeups;		/* forced consumer wake-ups */
	__u64 streams_unseen;	/* streams closed by a route not hooked, found at exit */
	__u64 pos_uncertain;	/* writes whose file position may be wrong */
	__u64 procs_full;	/* streams not counted per process: procs map full */
	__u64 streams_full;	/* writes in no stream: the streams map was full */
	__u64 bytes_map_full;	/* their bytes (also in bytes_unattributed) */
	__u64 traced_full;	/* processes not followed: the traced map was full */
	__u64 bpf_calls;	/* bpf() calls by traced processes */
	__u64 proc_records;	/* proc records sent (first, exec, rename, credentials) */
	__u64 writers_held;	/* lossless: writers stopped here, the ring past hold_mark */
};

/* ---- routes that are not scanned (bpf/blind.bpf.h, user/routes.c) ----
 * A traced process that moves bytes by one of these routes is declared:
 * a YS_REC_BLIND record the first time per process and route, and counters
 * per route (blind_totals, per CPU) and per process and route (blind_procs)
 * that user space reads. Names in user/routes.c; the numbers are the ABI. */
enum ys_blind_route {
	YS_BLIND_NONE = 0,		/* blind_totals[0]: calls blind_procs had no room for */
	YS_BLIND_IO_URING = 1,		/* an io_uring request that writes or sends */
	YS_BLIND_AIO = 2,		/* io_submit IOCB_CMD_PWRITE/PWRITEV */
	YS_BLIND_SPLICE = 3,
	YS_BLIND_TEE = 4,
	YS_BLIND_SENDFILE = 5,
	YS_BLIND_COPY_FILE_RANGE = 6,
	YS_BLIND_MMAP_SHARED = 7,	/* a writable shared mapping of a file (mmap, mprotect) */
	YS_BLIND_SHM = 8,		/* SysV shmat, writable */
	YS_BLIND_MSGSND = 9,		/* SysV message queues */
	YS_BLIND_MQ_SEND = 10,		/* POSIX message queues */
	YS_BLIND_XATTR = 11,		/* setxattr and co: bytes into a file's metadata */
	YS_BLIND_PROCESS_VM_WRITEV = 12,/* into another process's memory */
	YS_BLIND_PTRACE_POKE = 13,	/* PTRACE_POKETEXT/POKEDATA/POKEUSER */
	YS_BLIND_IA32 = 14,		/* a 32-bit process: its syscalls skip the tracepoints */
	YS_BLIND_COMPAT = 15,		/* a compat (int $0x80) write-family syscall, --compat */
	YS_BLIND_TIOCSTI = 16,		/* bytes pushed into a terminal's input */
	YS_BLIND_FILE_CLONE = 17,	/* FICLONE/FICLONERANGE: a file's blocks shared into another */
	YS_BLIND_KEYRING = 18,		/* add_key/keyctl update: a payload kept by the kernel */
	YS_BLIND_HOSTNAME = 19,		/* sethostname/setdomainname */
	YS_BLIND_MAX = 32,
};

enum ys_blind_flags {
	YS_BLIND_F_BYTES = 1,	/* bytes is what the kernel said this call moved */
	YS_BLIND_F_PATH = 2,	/* path/mode/ino name a file */
};

struct ys_rec_blind {
	__u32 type;
	__u32 route;		/* enum ys_blind_route */
	__u64 bytes;		/* this call's bytes, with YS_BLIND_F_BYTES */
	__s64 arg;		/* io_uring/aio opcode, ptrace/process_vm_writev target pid, else -1 */
	__u32 tgid;
	__u32 tid;
	__s32 fd;		/* the fd written to, or -1 */
	__s32 src_fd;		/* splice & co: the fd the bytes came from, or -1 */
	__u32 flags;		/* enum ys_blind_flags */
	__u32 uid;
	__u32 mode;		/* of the file named, as in ys_rec_open */
	__u32 dev;
	__u64 ino;
	__u32 rdev;
	__u32 path_flags;
	char comm[YS_TASK_COMM_LEN];
	__u32 path_len;
	__u32 pad;
	/* the file's path: the source for splice & co, else the target */
	char path[2 * YS_PATH_MAX];
};

/* blind_procs: (tgid, route) -> count; blind_totals[route] -> count */
struct ys_blind_key {
	__u32 tgid;
	__u32 route;
};

struct ys_blind_count {
	__u64 calls;		/* calls that moved bytes by the route */
	__u64 bytes;		/* bytes they moved, where the kernel said */
	__u64 calls_unsized;	/* calls whose bytes are not known */
};

#endif
