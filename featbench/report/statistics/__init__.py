"""Statistics across entries: which differences are real, and intervals that resample the independent unit.

- `ranks`: the Friedman test of k entries over n independent blocks, the mean rank table, the Nemenyi critical
  difference and its cliques (Demsar 2006);
- `pairs`: pairwise Wilcoxon signed-rank tests with Holm's correction;
- `folds`: within one corpus, where folds share training speakers, the corrected resampled t-test of Nadeau and
  Bengio (2003) for a pair of entries, with its interval;
- `speakers`: bootstrap intervals of UA (or of a paired difference) that resample test speakers within folds;
- `bayes`: Bayesian comparisons of a pair with a region of practical equivalence (the correlated t-test within a
  corpus, the signed-rank test across corpora);
- `cdplot`: the critical-difference diagram;
- `across`: entries ranked across corpora (blocks corpus [x condition], each the mean over folds and seeds), for a
  study (report.sections.statistics.across_corpora_section renders it).

Fewer than MIN_BLOCKS blocks give no p-value: every result then says why instead of raising.

>>> from featbench.report.statistics import MIN_BLOCKS, too_few
>>> MIN_BLOCKS, too_few(4)
(5, 'too few blocks (4) for a test to mean anything')
"""
from featbench.report.statistics.folds import CorrectedT, corrected_pair, corrected_t, fold_scores, score_matrix
from featbench.report.statistics.pairs import Pair, PairTests, holm, pairwise
from featbench.report.statistics.ranks import (MIN_BLOCKS, CriticalDifference, RankTest, cliques, critical_difference,
                                               friedman, nemenyi_q, too_few)
from featbench.report.statistics.counts import counts_of, fit_margins
from featbench.report.statistics.speakers import SPEAKERS, UTTERANCES, FoldCounts, SpeakerInterval, speaker_interval
from featbench.report.statistics.bayes import ROPE, Bayes, correlated_t, signed_rank
from featbench.report.statistics.across import AcrossCorpora, across_corpora

__all__ = ["MIN_BLOCKS", "ROPE", "SPEAKERS", "UTTERANCES", "AcrossCorpora", "Bayes", "CorrectedT", "CriticalDifference", "FoldCounts", "Pair", "PairTests", "RankTest",
           "SpeakerInterval", "across_corpora", "cliques", "correlated_t", "corrected_pair", "corrected_t", "counts_of", "critical_difference", "fit_margins",
           "fold_scores", "friedman",
           "holm", "nemenyi_q", "pairwise", "score_matrix", "signed_rank", "speaker_interval", "too_few"]
