"""A character-level tokenizer built with `tokenizers`, saved in the HF format.

Every printable ASCII character is one token, so the embedded tasks (and a
user's ASCII prompts) need no training of the tokenizer, and any local
Hugging Face tokenizer can replace it through `save_pretrained` / `from_pretrained`.
"""

from __future__ import annotations

import string

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

SPECIALS = ["[PAD]", "[BOS]", "[EOS]", "[UNK]"]
CHARS = [c for c in string.printable if c not in "\t\n\r\x0b\x0c"]   # 95 printable ASCII characters


def build_char_tokenizer() -> PreTrainedTokenizerFast:
    """The embedded tokenizer: ids 0-3 are [PAD], [BOS], [EOS], [UNK]; then one id per character."""
    vocab = {tok: i for i, tok in enumerate(SPECIALS + CHARS)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", bos_token="[BOS]",
                                   eos_token="[EOS]", unk_token="[UNK]", padding_side="left")
