"""gdb commands for C programs that use gort, after Go's runtime-gdb.py.

    info goroutines         every goroutine: * if running, id, state, function
    goroutine <id> <cmd>    runs the gdb command <cmd> (bt, info frame...)
                            as if goroutine <id> were the current thread

Load it from gdb, or from ~/.gdbinit:

    source /usr/local/share/gort/gort-gdb.py

It reads the runtime's own structures (allgs, struct g), so the gort
library must carry its debug information, as the one `make install`
installs does.  A goroutine that is not running resumes, in gort, from
the frame mcall pushed on its stack; `goroutine <id>` points the registers
there for the length of the command, then puts them back.
"""

import gdb

# G states (src/runtime.h) and the frame mcall leaves (src/arch/amd64.S).
GSTATUS = {0: "idle", 1: "runnable", 2: "running", 3: "syscall", 4: "waiting", 6: "dead"}
GIDLE, GRUNNING, GWAITING, GDEAD = 0, 2, 4, 6
FRAME_REGS = (("r15", 8), ("r14", 16), ("r13", 24), ("r12", 32), ("rbx", 40), ("rbp", 48))
FRAME_PC = 56
FRAME_SIZE = 64
SAVED_REGS = ("rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15")


def gptr():
    return gdb.lookup_type("struct g").pointer()


def allgs():
    """Every goroutine that has run or will, oldest first."""
    gp = gdb.parse_and_eval("allgs").cast(gptr())
    while int(gp) != 0:
        status = int(gp["atomicstatus"])
        if status not in (GIDLE, GDEAD) and int(gp["goid"]) != 0:
            yield gp
        gp = gp["alllink"].cast(gptr())


def word(addr):
    return int(gdb.parse_and_eval("*(unsigned long *)%d" % addr))


def funcname(pc):
    try:
        block = gdb.block_for_pc(pc)
        while block is not None and block.function is None:
            block = block.superblock
        if block is not None:
            return block.function.name
    except RuntimeError:
        pass
    return "0x%x" % pc


def state(gp):
    status = int(gp["atomicstatus"])
    reason = int(gp["waitreason"])
    if status == GWAITING and reason > 0:
        return gdb.parse_and_eval("waitreasonstrings")[reason].string()
    return GSTATUS.get(status, "status %d" % status)


def findg(goid):
    for gp in allgs():
        if int(gp["goid"]) == goid:
            return gp
    raise gdb.GdbError("no goroutine %d" % goid)


class InfoGoroutines(gdb.Command):
    """Lists every goroutine: * if running, its id, its state or what it
waits for, the function it was started with (and its name, if given one)."""

    def __init__(self):
        super().__init__("info goroutines", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        for gp in allgs():
            running = int(gp["atomicstatus"]) == GRUNNING
            line = "%s %d %s %s" % ("*" if running else " ", int(gp["goid"]), state(gp),
                                    funcname(int(gp["fn"].cast(gdb.lookup_type("unsigned long")))))
            if gp["named"]:
                line += ' "%s"' % gp["name"].string()
            gdb.write(line + "\n")


class GoroutineCmd(gdb.Command):
    """goroutine <id> <command>: runs a gdb command, bt for one, in
goroutine <id>'s context: a running goroutine's thread, or the frame a
parked or runnable one will resume from."""

    def __init__(self):
        super().__init__("goroutine", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        goid, _, cmd = arg.strip().partition(" ")
        if not goid.isdigit() or not cmd:
            raise gdb.GdbError("usage: goroutine <id> <command>")
        gp = findg(int(goid))
        if int(gp["atomicstatus"]) == GRUNNING:
            self.onthread(gp, cmd)
            return
        sp = int(gp["sched"]["sp"])
        if sp == 0:
            gdb.write("goroutine %s has not run yet: it will start in %s\n"
                      % (goid, funcname(int(gp["fn"].cast(gdb.lookup_type("unsigned long"))))))
            return
        gdb.execute("select-frame 0")
        saved = {r: int(gdb.parse_and_eval("$" + r)) for r in SAVED_REGS}
        try:
            for reg, off in FRAME_REGS:
                gdb.execute("set $%s = %d" % (reg, word(sp + off)))
            gdb.execute("set $rip = %d" % word(sp + FRAME_PC))
            gdb.execute("set $rsp = %d" % (sp + FRAME_SIZE))
            gdb.execute(cmd)
        finally:
            for reg in SAVED_REGS:
                gdb.execute("set $%s = %d" % (reg, saved[reg]))

    @staticmethod
    def onthread(gp, cmd):
        """A running goroutine's stack is its thread's: run cmd there."""
        tid = int(gp["m"]["procid"])
        current = gdb.selected_thread()
        for th in gdb.selected_inferior().threads():
            if th.ptid[1] == tid:
                th.switch()
                try:
                    gdb.execute(cmd)
                finally:
                    current.switch()
                return
        raise gdb.GdbError("goroutine %d runs on thread %d, which gdb does not see" % (int(gp["goid"]), tid))


InfoGoroutines()
GoroutineCmd()
