"""One exception type for mistakes a user can fix.

The CLI prints a `UserError` as one sentence and exits with status 2; any
other exception is a bug and keeps its traceback, except the few the CLI's
`main()` recognises as the user's environment (a path it cannot use, a
missing extra, memory it cannot get), which also become one sentence.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input: a file, a field or a value."""


def allocation_failure_sentence(exc: BaseException) -> str | None:
    """One sentence for a failed memory allocation (host or accelerator); None for other errors.

    torch reports a failed CPU allocation as a RuntimeError from
    DefaultCPUAllocator and a GPU one as torch.OutOfMemoryError; neither can be
    caught by type without importing torch, so the message and class name decide.
    """
    text = str(exc)
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or (
            isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text)):
        need = ""
        if "you tried to allocate" in text:
            need = " (it asked for" + text.split("you tried to allocate", 1)[1].split(".")[0] + ")"
        return ("the run needs more memory than this machine can give" + need +
                ": lower grpo.max_completion_length, grpo.num_generations or grpo.prompts_per_step")
    return None
