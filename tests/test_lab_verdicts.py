"""The Residual Lab's sentences say what the numbers on screen show, whichever way a run came out."""

from resnet_core.depth_study.twins import SweepPoint
from ui.lab import verdicts


def point(depth: int, plain: float, residual: float) -> SweepPoint:
    return SweepPoint(f"resnet{depth}", depth, {"plain": plain, "residual": residual}, {}, 1.0)


def test_twins_name_the_winner_from_the_losses_and_say_when_a_run_shows_nothing():
    res, plain = {"train_loss": 0.257, "test_accuracy": 92.6}, {"train_loss": 2.154, "test_accuracy": 20.5}
    assert "With shortcuts the 56-layer net learned its training digits far better" in verdicts.twins(
        res, plain, 56, 63, 63
    )
    closer = verdicts.twins(res | {"train_loss": 0.05}, plain | {"train_loss": 0.08, "test_accuracy": 97.0}, 20, 63, 63)
    assert "somewhat better (loss 0.050 against 0.080)" in closer and "fails to learn" not in closer
    assert "try 56 layers" in closer
    same = verdicts.twins(
        {"train_loss": 0.100, "test_accuracy": 97.0}, {"train_loss": 0.102, "test_accuracy": 96.9}, 8, 63, 63
    )
    assert "about equally well" in same and "does not show shortcuts helping" in same and "Try 56 layers" in same
    reverse = verdicts.twins(plain | {"train_loss": 0.3}, res | {"train_loss": 0.2}, 20, 63, 63)
    assert reverse.startswith("In this run the net without shortcuts learned better") and "try 56 layers" in reverse
    deep_reverse = verdicts.twins(plain | {"train_loss": 0.3}, res | {"train_loss": 0.2}, 56, 63, 63)
    assert "one net can get lucky" in deep_reverse
    # Lower training loss with shortcuts, but the plain net tested higher: both are said.
    mixed = verdicts.twins(
        {"train_loss": 0.018, "test_accuracy": 99.0}, {"train_loss": 0.028, "test_accuracy": 99.4}, 20, 938, 938
    )
    assert "somewhat better" in mixed and "the plain net scored higher (99.4% against 99.0%)" in mixed
    assert "stopped after 5 of 63 steps" in verdicts.twins(res, plain, 56, 5, 63)
    assert verdicts.twins(
        {"train_loss": 2.2, "test_accuracy": 11.0}, {"train_loss": 2.3, "test_accuracy": 10.2}, 56, 63, 63
    ).startswith("Neither net has learned yet")


def test_the_sweep_says_nothing_until_every_depth_is_in_then_says_what_they_show():
    paper = [point(8, 0.10, 0.09), point(20, 0.30, 0.08), point(56, 1.90, 0.07)]
    assert verdicts.sweep(paper[:2], 3) is None  # two of three in: a verdict now could reverse
    said = verdicts.sweep(paper, 3)
    assert "The plain net's training loss got worse from 8 to 56 layers (0.100 → 1.900)" in said
    assert "The residual net's training loss got better" in said and "He et al.'s picture" in said
    flat = verdicts.sweep([point(8, 0.10, 0.10), point(56, 0.10, 0.10)], 2)
    assert "stayed about the same" in flat and "does not show depth hurting the plain net" in flat
    both = verdicts.sweep([point(8, 0.10, 0.10), point(56, 1.0, 0.9)], 2)
    assert "Depth hurt both nets here" in both and "He et al.'s picture" not in both


def test_gradient_flow_explains_a_growing_gradient_as_well_as_a_fading_one():
    grown = verdicts.gradient(residual_ratio=1.4, plain_ratio=897.0)
    assert "1.4 times as strong" in grown and "897 times as strong" in grown and "grew on the way back" in grown
    assert "only half of the story" in grown and "arrives nearly unchanged" in grown
    both_grew = verdicts.gradient(residual_ratio=6.78, plain_ratio=897.0)
    assert "changed on the way back in both nets, less in the residual one" in both_grew
    assert "nearly unchanged" not in both_grew
    faded = verdicts.gradient(residual_ratio=0.8, plain_ratio=0.001)
    assert "1/1e+03 of its strength" in faded and "faded on the way back" in faded and "half of the story" not in faded
    reverse = verdicts.gradient(residual_ratio=50.0, plain_ratio=2.0)
    assert "not what shortcuts usually do" in reverse and "nearly unchanged" not in reverse


def test_the_lesion_verdict_follows_the_drops_and_never_calls_a_net_that_never_learned_robust():
    removable = {"residual": 9, "plain": 7}
    # 20 layers: both nets learned, and over the 7 blocks both can lose the residual one lost less, though much.
    said = verdicts.lesion(
        {"residual": 98.0, "plain": 96.0}, {"residual": 24.5, "plain": 82.2}, {"residual": 2, "plain": 0}, removable, 7
    )
    assert said.startswith(
        "The residual net came through better: removing the 7 blocks that can be taken out of both nets cost it 24.5 points on "
        "average, the plain net 82.2."
    )
    assert "Both lost a lot, though." in said and "2 more blocks can be taken out of the residual net only" in said
    assert "2 of 9 single removals cost the residual net less than 5 points, and 0 of 7" in said
    # 8 layers: one block both can lose, and it cost them about the same; no average over unlike sets.
    eight = verdicts.lesion(
        {"residual": 98.4, "plain": 98.4},
        {"residual": 88.2, "plain": 87.4},
        {"residual": 0, "plain": 0},
        {"residual": 3, "plain": 1},
        1,
    )
    assert eight.startswith(
        "The two nets came through about the same: removing the one block that can be taken out of both nets cost the residual "
        "net 88.2 points, the plain net 87.4."
    )
    assert (
        "better" not in eight
        and "on average" not in eight
        and "2 more blocks can be taken out of the residual net only" in eight
    )
    # 56 layers: the plain net never learned, so its small drops are not robustness.
    weak = verdicts.lesion(
        {"residual": 95.0, "plain": 21.0}, {"residual": 14.5, "plain": 6.2}, {"residual": 20, "plain": 5}, removable, 7
    )
    assert weak.startswith("The plain net barely learned (21.0%, against the residual net's 95.0%)")
    assert "came through better" not in weak
    # Neither learned (1,000 digits, one epoch): no verdict, and no count that would read as one.
    neither = verdicts.lesion(
        {"residual": 12.2, "plain": 11.0}, {"residual": 1.0, "plain": 0.5}, {"residual": 9, "plain": 7}, removable, 7
    )
    assert neither.startswith("Neither net learned in this run (12.2% and 11.0%") and "of 9" not in neither
    reverse = verdicts.lesion(
        {"residual": 97.0, "plain": 96.0}, {"residual": 30.0, "plain": 20.0}, {"residual": 1, "plain": 3}, removable, 7
    )
    assert reverse.startswith("In this run the residual net did not come through better")
