"""Classification metrics against hand-computed confusion matrices."""

from __future__ import annotations

import numpy as np
import pytest

from atelier.metrics import classification_report, confusion_matrix


def test_confusion_matrix_counts() -> None:
    matrix = confusion_matrix([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_report_by_hand() -> None:
    # class a: tp 1, predicted 2, actual 2 -> p 1/2 r 1/2 f1 1/2
    # class b: tp 2, predicted 3, actual 2 -> p 2/3 r 1 f1 0.8
    # class c: tp 0, never predicted, actual 1 -> p 0 r 0 f1 0
    report = classification_report(np.array([[1, 1, 0], [0, 2, 0], [1, 0, 0]]), ["a", "b", "c"])
    assert report.accuracy == pytest.approx(3 / 5)
    assert report.per_class["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report.per_class["b"]["precision"] == pytest.approx(2 / 3)
    assert report.per_class["b"]["recall"] == 1.0 and report.per_class["b"]["f1"] == pytest.approx(0.8)
    assert report.per_class["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report.macro_f1 == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_perfect_and_empty() -> None:
    perfect = classification_report(np.eye(4, dtype=int) * 5, list("wxyz"))
    assert perfect.accuracy == 1.0 and perfect.macro_f1 == 1.0
    empty = classification_report(np.zeros((2, 2), dtype=int), ["a", "b"])
    assert empty.accuracy == 0.0 and empty.macro_f1 == 0.0


from atelier.metrics import frechet_between, frechet_distance, gaussian_stats, kernel_distance  # noqa: E402


def test_frechet_identical_sets_is_zero() -> None:
    features = np.random.default_rng(0).normal(size=(500, 8))
    assert frechet_between(features, features) == pytest.approx(0.0, abs=1e-6)


def test_frechet_closed_form_for_diagonal_gaussians() -> None:
    # For diagonal covariances: ||mu1 - mu2||^2 + sum (sqrt(s1) - sqrt(s2))^2
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected)


def test_frechet_of_shifted_samples_approaches_the_closed_form() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(20000, 4))
    b = rng.normal(size=(20000, 4)) + np.array([1.0, 0.0, 2.0, 0.0])
    assert frechet_between(a, b) == pytest.approx(5.0, rel=0.05)
    with pytest.raises(ValueError):
        gaussian_stats(np.zeros((1, 3)))


def test_kid_is_near_zero_for_the_same_distribution_and_grows_with_a_shift() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(400, 16)), rng.normal(size=(400, 16))
    same = kernel_distance(a, b)
    shifted = kernel_distance(a, b + 1.0)
    assert abs(same) < 0.02 and shifted > 10 * max(abs(same), 1e-3)
