#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses: tests/fuzz/corpus/NAME/.

Seeds are small valid inputs that reach the interesting paths at once; the
fuzzer mutates from there. Files this script does not name (regression
inputs added by hand) are left alone. Run from anywhere:
    /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# include/yarasnoop.h
REC_WRITE, REC_OPEN, REC_CLOSE, REC_EXIT, REC_PROC, REC_BPF, REC_BLIND = 1, 2, 3, 4, 5, 6, 7
ROUTE_WRITE, ROUTE_PWRITE64 = 1, 3
W_POS, W_POS_UNCERTAIN = 1, 2
CLOSE_UNSEEN = 4
PATH_OK = 1
PATH_MAX = 256
CMDLINE_MAX = 256
PROC_FIRST, PROC_CRED = 1, 4
PROC_CMDLINE, PROC_CMDLINE_CUT = 1, 2
BPF_MAP_DELETE_ELEM = 3


def rec_write(stream, offset, data, truncated=0, pos=0, flags=0, route=ROUTE_WRITE, tgid=42,
              tid=42, fd=1, length=None):
    n = len(data) if length is None else length
    return struct.pack('<IIQQQQIIiHH', REC_WRITE, n, stream, offset, truncated, pos,
                       tgid, tid, fd, flags, route) + data


def rec_open(stream, path, comm=b'bash', fd=1, mode=0o20620, key=0xffff888012345600, f_flags=0o100001):
    p = path.ljust(2 * PATH_MAX, b'\0')
    return struct.pack('<IIQQQIIIIiIII16sII', REC_OPEN, mode, stream, 1234, key, 0x16, 0x8800,
                       42, 42, fd, 1000, f_flags, PATH_OK, comm, len(path), 0) + p


def rec_close(stream, nbytes, reason=0, fd=1):
    return struct.pack('<IIQQIi', REC_CLOSE, reason, stream, nbytes, 42, fd)


def rec_exit(code=0, comm=b'bash', unseen=0):
    return struct.pack('<IIII16s', REC_EXIT, code, 42, unseen, comm)


def rec_blind(route, path, nbytes=0, flags=1, fd=3, src_fd=-1, comm=b'bash', mode=0o100644):
    p = path.ljust(2 * PATH_MAX, b'\0')
    return struct.pack('<IIQqIIiiIIIIQII16sII', REC_BLIND, route, nbytes, -1, 42, 42, fd, src_fd,
                       flags | 2, 1000, mode, 0x16, 1234, 0, PATH_OK, comm, len(path), 0) + p


def rec_proc(reason=PROC_FIRST, uid=0, euid=0, loginuid=1000, comm=b'bash', exe=b'/usr/bin/bash',
             cmdline=b'bash\0-i\0', cgroup=b'/user.slice/user-1000.slice/session-3.scope',
             flags=PROC_CMDLINE, exe_len=None, cmdline_len=None, cgroup_len=None):
    head = struct.pack('<IIIIIIIIIIIIQQQQ16sIIIIII', REC_PROC, reason, 42, 1, uid, euid, 0, 0,
                       loginuid, 3, 42, flags, 123456789, 4026531841, 4026531836, 4242, comm,
                       PATH_OK, len(exe) if exe_len is None else exe_len,
                       len(cmdline) if cmdline_len is None else cmdline_len, PATH_OK,
                       len(cgroup) if cgroup_len is None else cgroup_len, 0)
    return (head + exe.ljust(2 * PATH_MAX, b'\0') + cmdline.ljust(2 * CMDLINE_MAX, b'\0') +
            cgroup.ljust(2 * PATH_MAX, b'\0'))


def rec_bpf(cmd=BPF_MAP_DELETE_ELEM, obj=17, comm=b'bpftool'):
    return struct.pack('<IIIIII16s', REC_BPF, cmd, 42, 43, obj, 0, comm)


def sequence(*recs):
    return b''.join(struct.pack('<H', len(r)) + r for r in recs)


assert len(rec_write(0, 0, b'')) == 56
assert len(rec_open(0, b'')) == 600
assert len(rec_close(0, 0)) == 32
assert len(rec_exit()) == 32
assert len(rec_blind(3, b'')) == 608
assert len(rec_proc()) == 1656
assert len(rec_bpf()) == 40

RECORDS = {
    'write': rec_write(7, 0, b'hello, world\n'),
    'write_empty': rec_write(7, 13, b''),
    'write_truncated': rec_write(7, 100, b'x' * 200, truncated=4096),
    'write_short': rec_write(7, 0, b'abc', length=64),
    'open': rec_open(7, b'/dev/pts/3'),
    'close': rec_close(7, 13),
    'exit': rec_exit(1),
    'exit_unseen': rec_exit(0, unseen=3),
    'write_pos': rec_write(8, 0, b'7EXAMPLE\n', pos=12, flags=W_POS, route=ROUTE_PWRITE64),
    'write_pos_uncertain': rec_write(8, 9, b'AKIAIOSFODNN', pos=0, flags=W_POS | W_POS_UNCERTAIN),
    'close_unseen': rec_close(8, 21, reason=CLOSE_UNSEEN, fd=-1),
    'blind': rec_blind(3, b'/etc/shadow', 4096, src_fd=5),
    'header_only': struct.pack('<I', REC_WRITE),
    'proc': rec_proc(),
    'proc_container': rec_proc(cgroup=b'/system.slice/docker-' + b'0123456789abcdef' * 4 + b'.scope'),
    'proc_unterminated': rec_proc(exe=b'/x' * 300, cmdline=b'a' * 600, cgroup=b'c' * 600,
                                  flags=PROC_CMDLINE | PROC_CMDLINE_CUT, exe_len=4096,
                                  cmdline_len=4096, cgroup_len=4096)[:1656],
    'proc_cred': rec_proc(reason=PROC_CRED, uid=65534, euid=65534),
    'bpf': rec_bpf(),
    'sequence': sequence(rec_proc(), rec_open(9, b'/tmp/log'), rec_write(9, 0, b'secret\n'),
                         rec_write(9, 7, b'more'), rec_close(9, 11, 1), rec_bpf(), rec_blind(1, b'/tmp/x'),
                         rec_exit(0),
                         b'\x63\0\0\0', b''),
}

OUTPUT = {
    'plain': b'plain text, nothing to do',
    'controls': b'\x1b[31mred\x1b[0m\n\ttab\r\0nul\x7f\x01',
    'quotes': b'q"uo\\te "x\\"',
    'utf8': 'café — 日本 😀'.encode(),
    'invalid_utf8': b'\xc3 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xf8\x88\x80\x80\x80 \xe2\x82',
    'invisible': '\u202eevil\u2028\u2029\u0085\u200b\u2066x\u2069\ufeff'.encode(),
    'forge': b'x","rule":"fake"}\n{"type":"match',
}

# fuzz_scanner's program: a config byte (& 7: flush_bytes, & 8: the rule set
# without fullword and \b, >> 6: flush_ns), a second one (& 3: exact_size
# 0, 64, 4096, 1M; & 4: at most 3 match events per rule; & 8: a CPU budget
# for deadlines), then operations
#   op, slot, args...   op & 15: 0-7 write, 8 skip (dropped), 9 skip
#   (truncated), 10 flush, 11 final flush, 12 deadline (op & 0x10: at the
#   next due time, no arg), 13 trim, 14 path, 15 remove (op & 0x10: final
#   scan first); a slot's first op creates its stream at offset
#   (op >> 5) * 1000
#   write args: how (& 7: 0-5 at the end, 6 a gap, 7 late), dist, src, len,
#   then len raw bytes if src < 0x80, a fragment if src < 0xf8, else a fill
#   of (len & 0x7f) + 1 KiB plus one byte more (src odd: one long word)
# The fragment table is fuzz_scanner.c's frags[].
FRAGS = ['secret', ' secret ', 'secrets', '_secret.', '\nsecret\n',
         'password=0123abcd', 'pass=deadbeefcafe0042', 'pass=', 'word=',
         '9f', 'MZ\x90\x00\x03', 'PE\0\0', 'MZ..PE\0\0',
         't\0o\0k\0e\0n\0', 'to', '\0ken\0', 'NeEdLe', 'key',
         ' key ', '\n', ' ', 'ab', 'abab', '\0', 'a' * 32]
FLUSH_BYTES = [0, 1, 7, 64, 4096, 64 << 10]
FLUSH_NS = [0, 1, 100, 10000]


EXACT = [0, 64, 4096, 1 << 20]


def cfg(flush_bytes, flush_ns, edges=True, exact=0, max3=False, budget=False):
    """edges: the rule set with fullword and \\b, else the one without"""
    return bytes([FLUSH_BYTES.index(flush_bytes) | (0 if edges else 8) |
                  FLUSH_NS.index(flush_ns) << 6,
                  EXACT.index(exact) | (4 if max3 else 0) | (8 if budget else 0)])


def w(slot, data, how=0, dist=0, op=0):
    assert len(data) < 256
    return bytes([op & 0xf0, slot, how, dist, 0, len(data)]) + data


def frag(slot, name, reps=1, how=0, dist=0, op=0):
    i = FRAGS.index(name)
    src = next(s for s in range(0x80, 0xf8) if s % len(FRAGS) == i)
    return bytes([op & 0xf0, slot, how, dist, src, reps - 1])


def fill(slot, kib, extra=0, op=0, word=False):
    return bytes([op & 0xf0, slot, 0, 0, 0xf9 if word else 0xf8, kib - 1, extra])


def skip(slot, n, truncated=False, big=False):
    return bytes([(9 if truncated else 8) | (0 if big else 0x20), slot, n])


def flush(slot):
    return bytes([10, slot])


def final(slot):
    return bytes([11, slot])


def due(slot, dt):
    return bytes([12, slot, dt])


def due_next(slot):
    return bytes([12 | 0x10, slot])


def trim(slot):
    return bytes([13, slot])


def path(slot, n):
    return bytes([14, slot, n])


def remove(slot, scan=True):
    return bytes([15 | (0x10 if scan else 0), slot])


SCANNER = {
    'split_word': cfg(0, 0) + w(0, b'xx sec') + w(0, b'ret yy') + final(0),
    'interleaved': cfg(64, 100) + w(0, b'pass=dead') + w(1, b'to') +
    frag(1, 't\0o\0k\0e\0n\0') + w(0, b'beef00 ') + due(0, 200) +
    frag(2, 'MZ..PE\0\0') + flush(1) + final(0) + final(1) + final(2),
    'gap_late': cfg(7, 0) + w(0, b'hello secret') + w(0, b' needle key ', how=6, dist=40) +
    w(0, b'lost needle', how=7, dist=30) + skip(0, 50) + frag(0, ' secret ', 3) + final(0),
    'truncate_trim': cfg(4096, 1) + frag(3, 'password=0123abcd', 2) + skip(3, 9, truncated=True) +
    due(3, 10) + trim(3) + path(3, 4) + frag(3, 'abab', 4) + remove(3) + w(3, b'again'),
    'big_fill': cfg(64 << 10, 10000) + fill(4, 70, 3) + frag(4, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 8) +
    due(4, 255) + final(4),
    'long_word': cfg(7, 1) + fill(5, 6, word=True) + w(5, b' then secret ') +
    fill(5, 80, word=True) + due_next(5) + final(5),
    'plain': cfg(64, 100, edges=False) + frag(6, 'secrets', 3) + w(6, b'to') +
    frag(6, '\0ken\0') + due_next(6) + frag(6, 'pass=deadbeefcafe0042') + flush(6) + final(6),
    # matches held back by a scan, then a late record, then the final scan
    'late_after_held': cfg(0, 0, edges=False) + w(7, b'zz') + w(7, b'xxab', how=6, dist=97) +
    w(7, b'q', how=7, dist=49) + final(7),
    # kept whole, then past the cap; a small cap, occurrences capped
    'exact_whole': cfg(7, 0, exact=1 << 20) + frag(8, ' secret ', 5) + w(8, b'xx sec') +
    w(8, b'ret') + final(8),
    'exact_outgrown': cfg(64, 100, exact=64, max3=True) + frag(9, ' key ', 6) + fill(9, 2) +
    frag(9, ' secret ', 4) + due(9, 50) + final(9),
    'exact_gap': cfg(0, 0, exact=4096, budget=True) + frag(10, 'password=0123abcd') +
    skip(10, 20) + frag(10, 'password=0123abcd') + final(10),
    'many_streams': cfg(1, 0) + b''.join(frag(s, ' key ', op=0x10 * (s & 1)) + frag(s, 'NeEdLe')
                                         for s in range(20)) +
    b''.join(remove(s, s & 1) for s in range(0, 20, 3)),
}


# fuzz_reorder: two bytes of bound, then six-byte steps (tests/fuzz/fuzz_reorder.c)
def ro(op, src, off, n, pos=0, flags=0):
    return bytes([op, src | ((off & 3) << 2), (off >> 2) & 0xff, n, pos, flags])


REORDER = {
    'in_order': bytes([4, 4]) + ro(0, 0, 0, 10) + ro(0, 0, 10, 10) + ro(2, 0, 0, 0),
    'gap_filled': bytes([8, 8]) + ro(0, 0, 8, 8) + ro(0, 0, 0, 8),
    'pos_reversed': bytes([16, 16]) + ro(0, 0, 0, 8, 4, 1) + ro(0, 0, 8, 12, 0, 1) + ro(3, 0, 0, 0, 0, 60),
    'gap_expired_late': bytes([255, 255]) + ro(0, 1, 20, 10) + ro(3, 0, 0, 0, 0, 63) + ro(0, 1, 0, 20),
    'two_sources': bytes([30, 3]) + ro(0, 0, 0, 5, 10, 1) + ro(0, 1, 0, 5, 0, 1) + ro(2, 0, 0, 0) +
    ro(2, 1, 0, 0),
    'truncated_end': bytes([2, 2]) + ro(0, 2, 4, 3, 0, 0x32) + ro(2, 2, 0, 0, 0, 5) + ro(3, 0, 0, 0, 0, 0xff),
}


def write_corpus(name, seeds):
    d = os.path.join(HERE, 'corpus', name)
    os.makedirs(d, exist_ok=True)
    for seed, data in seeds.items():
        with open(os.path.join(d, seed), 'wb') as f:
            f.write(data)


write_corpus('fuzz_records', RECORDS)
write_corpus('fuzz_output', OUTPUT)
write_corpus('fuzz_scanner', SCANNER)
write_corpus('fuzz_reorder', REORDER)
