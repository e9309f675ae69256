/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Records that cross the ring buffer, and the kernel-side map layouts user
 * space reads. Shared by bpf/yarasnoop.bpf.c and user/capture.c. */
#ifndef YARASNOOP_H
#define YARASNOOP_H

#define YS_TASK_COMM_LEN 16
/* Data bytes per record: a write is split into records of at most this. */
#define YS_CHUNK_MAX 65536
/* -f/--fd takes fds below this. */
#define YS_FD_FILTER_MAX 1024
/* Most iovecs the kernel takes in one writev (UIO_MAXIOV). */
#define YS_IOV_MAX 1024

enum ys_rec_type {
	YS_REC_WRITE = 1,	/* data written to a stream */
	YS_REC_OPEN = 2,	/* a stream's first write: who and what file */
	YS_REC_CLOSE = 3,	/* a stream ended in the kernel's view */
	YS_REC_EXIT = 4,	/* a traced process exited */
};

enum ys_close_reason {
	YS_CLOSE_CLOSE = 0,	/* close(), dup2/dup3 onto it, close_range() */
	YS_CLOSE_REUSE = 1,	/* the fd now refers to another file */
	YS_CLOSE_EXEC = 2,	/* closed on exec (O_CLOEXEC) */
	YS_CLOSE_EXIT = 3,	/* the process exited */
};

/* Offsets are stream offsets: byte N of a stream is the N-th byte written
 * to it. The kernel reserves [offset, offset + written) for each write
 * before copying, so records lost when the ring is full leave a gap user
 * space can measure exactly. */
struct ys_rec_write {
	__u32 type;
	__u32 len;		/* data bytes following this header */
	__u64 stream_id;
	__u64 offset;		/* stream offset of data[0] */
	__u64 truncated;	/* bytes after data cut by --capture-max */
	__u64 ts_ns;		/* reserved (0) */
	__u32 tgid;
	__u32 tid;
	__s32 fd;
	__u32 pad;
	/* then len bytes of data */
};

/* Paths walked in the kernel: up to this many components and bytes. */
#define YS_PATH_DEPTH 16
#define YS_PATH_MAX 256

enum ys_path_flags {
	YS_PATH_OK = 1,		/* path holds the file's path from the root */
	YS_PATH_CUT = 2,	/* deeper than YS_PATH_DEPTH or longer: the start is missing */
};

struct ys_rec_open {
	__u32 type;
	__u32 mode;		/* the file's i_mode */
	__u64 stream_id;
	__u64 ino;
	__u32 dev;		/* s_dev of the file's superblock */
	__u32 rdev;		/* i_rdev, for devices (ttys) */
	__u32 tgid;
	__u32 tid;
	__s32 fd;
	__u32 uid;
	char comm[YS_TASK_COMM_LEN];
	__u32 path_flags;
	__u32 path_len;
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
	__s32 fd;
};

struct ys_rec_exit {
	__u32 type;
	__u32 exit_code;
	__u32 tgid;
	__u32 pad;
	char comm[YS_TASK_COMM_LEN];
};

/* traced: tgid -> */
struct ys_traced {
	__u32 follow;		/* add children at fork */
	__u32 pad;
};

/* streams: (tgid, fd) -> */
struct ys_skey {
	__u32 tgid;
	__s32 fd;
};

struct ys_sval {
	__u64 id;
	__u64 file;		/* struct file *: an identity, never dereferenced */
	__u64 offset;		/* bytes written so far */
};

/* procs: tgid -> highest fd with a stream, so exit and exec can sweep */
struct ys_proc {
	__u32 max_fd;
	__u32 pad;
};

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
};

#endif
