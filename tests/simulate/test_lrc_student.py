"""The LRC student's wiring, its loss, and the merge into a plain transformers Llama (float64)."""

import pytest
import torch

from lrkd.simulate.lrc import DenseStudent, LRCStudent, load_teacher, merge
from lrkd.simulate.lrc.llama import CLONE_KINDS, MATRIX_KINDS, _eager_causal_attention
from lrkd.simulate.lrc.losses import TeacherTargets, clone_losses, kl_and_lm, kl_to_teacher, lm_loss
from lrkd.simulate.lrc.tiny import make_tiny_teacher

MERGE_TOL = 1e-10  # float64: the merged model and the projected student agree to round-off


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {
        "tied": make_tiny_teacher(root / "tied", gguf=False)["safetensors"],
        "untied": make_tiny_teacher(root / "untied", tie=False, gguf=False, seed=1)["safetensors"],
    }


def _teacher64(folder):
    teacher = load_teacher(folder)
    teacher.model.double()
    return teacher


def _randomize(student, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in student.named_parameters():
            p.copy_(
                torch.rand(p.shape, generator=g, dtype=p.dtype) + 0.5
                if "norm" in name
                else torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.2
            )
    return student


def _ids(teacher, shape=(2, 19)):
    return torch.randint(0, teacher.arch.vocab, shape, generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("tie_kind", ["tied", "untied"])
@pytest.mark.parametrize("attn_out_width", ["teacher", "student"])
@pytest.mark.parametrize("tie_head_proj", [True, False])
def test_merged_model_reproduces_the_projected_students_logits(folders, tie_kind, attn_out_width, tie_head_proj):
    teacher = _teacher64(folders[tie_kind])
    student = _randomize(LRCStudent(teacher, 24, attn_out_width=attn_out_width, tie_head_proj=tie_head_proj).double())
    merged = merge(student, dtype=torch.float64)
    assert merged.config.hidden_size == 24 and merged.config.head_dim == teacher.arch.head_dim
    assert merged.config.tie_word_embeddings == (tie_kind == "tied" and tie_head_proj)
    ids = _ids(teacher)
    with torch.no_grad():
        expected, got = student(ids).logits, merged(ids).logits
    assert (got - expected).abs().max() <= MERGE_TOL * expected.abs().max()


def test_merged_model_saves_and_loads_with_transformers(folders, tmp_path):
    from transformers import AutoTokenizer, LlamaForCausalLM

    teacher = load_teacher(folders["tied"])
    student = _randomize(LRCStudent(teacher, 16))
    merge(student, save_to=tmp_path / "merged")
    reloaded = LlamaForCausalLM.from_pretrained(tmp_path / "merged", local_files_only=True)
    AutoTokenizer.from_pretrained(tmp_path / "merged", local_files_only=True)
    ids = _ids(teacher)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(ids).logits, student(ids).logits, rtol=1e-4, atol=1e-4)


def test_dense_student_merges_too(folders):
    teacher = _teacher64(folders["untied"])
    student = _randomize(DenseStudent(teacher, 20).double())
    ids = _ids(teacher)
    with torch.no_grad():
        expected = student(ids).logits
        got = merge(student, dtype=torch.float64)(ids).logits
    assert (got - expected).abs().max() <= MERGE_TOL * expected.abs().max()


@pytest.mark.parametrize("attn_out_width", ["teacher", "student"])
def test_identity_projections_clone_the_teacher_exactly(folders, attn_out_width):
    """With d_S = d_T, P = I and the teacher's norms, the student is the teacher: zero clone loss."""
    teacher = _teacher64(folders["untied"])
    student = LRCStudent(teacher, teacher.arch.d_model, attn_out_width=attn_out_width, tie_head_proj=False).double()
    eye = torch.eye(teacher.arch.d_model, dtype=torch.float64)
    with torch.no_grad():
        for name, p in student.named_parameters():
            if "proj" in name:
                p.copy_(eye)
        for i in range(teacher.arch.n_layers):
            student.input_norm[i].copy_(teacher.layer(i).input_norm)
            student.post_norm[i].copy_(teacher.layer(i).post_norm)
        student.final_norm.copy_(teacher.final_norm)
    ids = _ids(teacher)
    t_out, s_out = teacher.forward(ids, capture=True), student(ids, capture=True)
    torch.testing.assert_close(s_out.logits, t_out.logits, rtol=1e-12, atol=1e-12)
    clones = clone_losses(student, s_out.acts, t_out.acts)
    assert set(clones) == set(CLONE_KINDS) and max(v.item() for v in clones.values()) < 1e-20
    kl, lm = kl_and_lm(s_out.logits, TeacherTargets.from_logits(t_out.logits, 1.0), ids)
    assert abs(kl.item()) < 1e-12 and lm.item() == pytest.approx(lm_loss(t_out.logits, ids).item())


def test_only_projections_and_norms_train(folders):
    teacher = load_teacher(folders["tied"])
    student = LRCStudent(teacher, 16)
    arch = teacher.arch
    expected = len(MATRIX_KINDS) * arch.n_layers * arch.d_model * 16 + arch.d_model * 16 + (2 * arch.n_layers + 1) * 16
    assert student.n_trainable() == expected
    assert all(student.P(kind, i).shape == (arch.d_model, 16) for kind in MATRIX_KINDS for i in range(arch.n_layers))
    ids = _ids(teacher)
    t_out, s_out = teacher.forward(ids, capture=True), student(ids, capture=True)
    loss = sum(clone_losses(student, s_out.acts, t_out.acts).values()) + lm_loss(s_out.logits, ids)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in student.trainable_parameters())
    assert all(p.grad is None for p in teacher.model.parameters())


def test_kl_reductions_and_temperature():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(2, 5, 7, generator=g), torch.randn(2, 5, 7, generator=g)
    p_t = torch.softmax(t / 2.0, -1)
    per_token = (p_t * (torch.log_softmax(t / 2.0, -1) - torch.log_softmax(s / 2.0, -1))).sum(-1)
    targets = TeacherTargets.from_logits(t, 2.0)
    torch.testing.assert_close(kl_to_teacher(s, targets, "token"), per_token.mean())
    torch.testing.assert_close(kl_to_teacher(s, targets, "batchmean"), per_token.sum() / 2)
    reference = torch.nn.functional.kl_div(
        torch.log_softmax(s / 2.0, -1), torch.log_softmax(t / 2.0, -1), log_target=True, reduction="batchmean"
    )  # the official reduction
    torch.testing.assert_close(kl_to_teacher(s, targets, "batchmean"), reference)  # torch's batchmean: / B
    ids = torch.randint(0, 7, (2, 5), generator=g)
    ones = TeacherTargets.from_logits(t, 1.0)
    kl1, lm1 = kl_and_lm(s, ones, ids)
    torch.testing.assert_close(kl1, kl_to_teacher(s, ones))
    torch.testing.assert_close(lm1, lm_loss(s, ids))
    kl2, lm2 = kl_and_lm(s, targets, ids)
    torch.testing.assert_close(kl2, per_token.mean())
    torch.testing.assert_close(lm2, lm_loss(s, ids))


def test_eager_attention_matches_torchs_fused_kernel():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 11, 8, generator=g) for _ in range(3))
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(_eager_causal_attention(q, k, v), expected, rtol=1e-5, atol=1e-5)
