"""evaluate(), the test report built from it, and accuracy(): on real test digits and a real trained net."""

import pytest
import torch
import torch.nn.functional as F

from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import stratified_indices
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.inside.embedding import penultimate_features
from resnet_core.networks.resnet import resnet8
from resnet_core.training.evaluation import accuracy, evaluate, summarize_test, tensor_batches
from tests.conftest import REPO


@pytest.fixture(scope="module")
def starter():
    return load_checkpoint(REPO / "assets" / "starter-resnet20.pt").model


@pytest.fixture(scope="module")
def digits(mnist_test):
    images, labels = mnist_test
    chosen = stratified_indices(labels, 300, seed=0)
    return to_model_input(images[chosen]), labels[chosen]


def test_test_result_is_consistent(trained_resnet18):
    result = trained_resnet18.test
    confusion = torch.tensor(result.confusion_matrix)
    assert confusion.sum() == 2000 and confusion.shape == (10, 10)
    assert len(result.misclassified) == 2000 - confusion.diag().sum()
    assert result.accuracy == pytest.approx(100 * confusion.diag().sum().item() / 2000)
    per_class = 100 * confusion.diag() / confusion.sum(1)
    assert result.per_class_accuracy == pytest.approx(per_class.tolist())
    wrong = result.misclassified[0]
    assert result.predictions[wrong] != result.labels[wrong]
    true, predicted = result.most_common_mistake()
    off_diagonal = confusion - torch.diag(confusion.diag())
    assert confusion[true, predicted] == off_diagonal.max() and true != predicted
    members = result.in_cell(true, predicted)
    assert len(members) == confusion[true, predicted]
    assert all(result.labels[i] == true and result.predictions[i] == predicted for i in members)
    hardest = result.hardest(5)
    probability = result.true_class_probabilities
    assert len(probability) == 2000 and all(0 <= p <= 1 for p in probability)
    assert [probability[i] for i in hardest] == sorted(probability)[:5]
    assert all(result.confidences[i] >= probability[i] for i in range(2000))  # the answer is the most probable


def test_evaluate_gives_the_loss_answers_and_probabilities_of_one_forward_pass(starter, digits):
    x, y = digits
    evaluation = evaluate(starter, tensor_batches(x, y, batch_size=128))  # 128, 128, then 44
    with torch.no_grad():
        logits = starter(x)
    assert evaluation.loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert evaluation.predictions.tolist() == logits.argmax(1).tolist() and evaluation.labels.equal(y)
    torch.testing.assert_close(evaluation.probabilities, torch.softmax(logits, 1))
    assert evaluation.accuracy == pytest.approx(100 * (logits.argmax(1) == y).float().mean().item())
    assert evaluation.accuracy > 90 and evaluation.features is None


def test_the_penultimate_features_come_from_the_same_pass(starter, digits):
    x, y = digits
    plain = evaluate(starter, tensor_batches(x, y, batch_size=128))
    evaluation = evaluate(starter, tensor_batches(x, y, batch_size=128), features=True)
    assert evaluation.features.shape == (300, 64) and evaluation.features.device.type == "cpu"
    torch.testing.assert_close(evaluation.features, penultimate_features(starter, x))
    assert evaluation.predictions.equal(plain.predictions) and evaluation.loss == pytest.approx(plain.loss)
    summary = summarize_test(evaluation)
    assert summary.accuracy == evaluation.accuracy and sum(map(sum, summary.confusion_matrix)) == 300


def test_accuracy_is_the_share_of_right_answers_whatever_the_batch_size(starter, digits):
    x, y = digits
    with torch.no_grad():
        expected = 100 * (starter(x).argmax(1) == y).float().mean().item()
    assert accuracy(starter, x, y) == pytest.approx(expected)
    assert accuracy(starter, x, y, batch_size=7) == pytest.approx(expected)


def test_evaluate_puts_the_mode_back_and_refuses_an_empty_loader(digits):
    x, y = digits
    model = resnet8().train()
    evaluate(model, tensor_batches(x[:10], y[:10]))
    assert model.training
    with pytest.raises(ValueError, match="yielded no batches"):
        evaluate(model, [])
    assert model.training
    assert [len(b) for b, _ in tensor_batches(x, y, batch_size=128)] == [128, 128, 44]
