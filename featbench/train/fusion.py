"""The `fusion` classifier: audio frames and text tokens in one model, aligned by cross-modal attention.

Each utterance is a pair (audio frames (Ta, Da), text tokens (Tt, Dt)). Both are standardised with
training statistics and projected to the same width; the audio passes two 1-D convolutions (as the
sequence model does). Then each modality attends over the other (multi-head attention: audio frames
query the tokens, tokens query the frames), with the padding of the other side masked; a learned null
key lets a frame attend to nothing. Each side is its own features plus what it attended to, attention-
pooled (mean and std) over its real rows; the two pooled vectors are concatenated and classified.
Training is the sequence model's: class-weighted loss, Adam, random crops of long audio, early stopping
on validation speakers (see featbench.train.sequence). Padding changes no output: a padded batch gives
the same probabilities as one utterance at a time.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = np.array([i % 2 for i in range(40)])
>>> pairs = [(rng.normal(size=(20, 3)).astype(np.float32), rng.normal(size=(5, 2)).astype(np.float32) + 2 * y[i])
...          for i in range(40)]
>>> model = FusionClassifier(n_classes=2, max_epochs=15, seed=0).fit(pairs[:30], y[:30], pairs[30:], y[30:])
>>> float((model.predict(pairs[30:]) == y[30:]).mean()) >= 0.9
True
"""
from __future__ import annotations

from dataclasses import dataclass


from featbench.train.sequence import SequenceClassifier, _torch, attentive_statistics, padded, standardisation


def _build_fusion_network(audio_dim: int, text_dim: int, n_classes: int, hidden: int, heads: int = 4):
    torch = _torch()
    nn = torch.nn

    class Pool(nn.Module):
        """Attention pooling of mean and std over the real rows."""

        def __init__(self):
            super().__init__()
            self.score = nn.Linear(hidden, 1)

        def forward(self, h, mask):
            return attentive_statistics(h, self.score(h).squeeze(-1), mask)

    class Fusion(nn.Module):
        def __init__(self):
            super().__init__()
            self.audio_in = nn.Conv1d(audio_dim, hidden, 5, padding=2)
            self.audio_ctx = nn.Conv1d(hidden, hidden, 5, padding=2)
            self.text_in = nn.Linear(text_dim, hidden)
            self.null = nn.Parameter(torch.zeros(1, 1, hidden))  # a key that means "nothing to align with"
            self.audio_to_text = nn.MultiheadAttention(hidden, heads, batch_first=True)
            self.text_to_audio = nn.MultiheadAttention(hidden, heads, batch_first=True)
            self.pools = nn.ModuleList([Pool() for _ in range(4)])  # audio, audio's view of text, text, text's view of audio
            self.drop = nn.Dropout(0.2)
            self.out = nn.Linear(8 * hidden, n_classes)

        def _attend(self, attention, queries, keys, key_mask):
            null = self.null.expand(len(keys), 1, -1)
            keys = torch.cat([null, keys], 1)
            ignore = torch.cat([torch.zeros_like(key_mask[:, :1]), ~key_mask], 1)  # True = padding, ignored
            return attention(queries, keys, keys, key_padding_mask=ignore, need_weights=False)[0]

        def forward(self, audio, audio_mask, text, text_mask):
            keep = audio_mask.unsqueeze(1).float()  # zero padded frames after each convolution: padding is inert
            a = torch.relu(self.audio_in(audio.transpose(1, 2))) * keep
            a = torch.relu(self.audio_ctx(self.drop(a))) * keep
            a = a.transpose(1, 2)
            t = torch.relu(self.text_in(text)) * text_mask.unsqueeze(-1).float()
            a_ctx = self._attend(self.audio_to_text, a, t, text_mask)
            t_ctx = self._attend(self.text_to_audio, t, a, audio_mask)
            pooled = torch.cat([pool(h, mask) for pool, h, mask in zip(
                self.pools, (a, a_ctx, t, t_ctx), (audio_mask, audio_mask, text_mask, text_mask))], 1)
            return self.out(self.drop(pooled))

    return Fusion()


@dataclass
class FusionClassifier(SequenceClassifier):
    """Fit on lists of (audio frames, text tokens) pairs; predict class indices (see the module docstring)."""

    max_tokens: int = 512

    def _standardise(self, pairs) -> None:
        self.audio_mean_, self.audio_std_ = standardisation([a for a, _ in pairs])
        self.text_mean_, self.text_std_ = standardisation([t for _, t in pairs])

    def _network(self, pairs):
        return _build_fusion_network(pairs[0][0].shape[1], pairs[0][1].shape[1], self.n_classes, self.hidden)

    def _batch(self, pairs, indices, rng=None) -> tuple:
        audio = padded([pairs[i][0] for i in indices], self.audio_mean_, self.audio_std_, self.max_frames, rng)
        text = padded([pairs[i][1][:self.max_tokens] for i in indices], self.text_mean_, self.text_std_, self.max_tokens)
        return (*audio, *text)
