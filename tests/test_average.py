"""Checkpoint averaging (training/average.py, `pinyin-edge average`): the parameter mean of runs over
the same label space, refused for anything else."""
import json
import os
import shutil

import pytest
from conftest import need_training, run_cli

torch = need_training()

from pinyin_edge.modeling.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from pinyin_edge.training.average import average_checkpoints  # noqa: E402


def _shifted_copy(checkpoint: str, dest: str, shift: float) -> str:
    """A copy of ``checkpoint`` whose every float parameter is moved by ``shift``."""
    from pinyin_edge.modeling.checkpoint import save_checkpoint

    model, tokenizer, meta = load_checkpoint(checkpoint)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(shift)
    save_checkpoint(os.path.join(dest, "best"), model, tokenizer, meta)
    return dest


def test_average_is_the_parameter_mean_and_scores_on_dev(trained_checkpoint, training_data, tmp_path):
    other = _shifted_copy(trained_checkpoint, str(tmp_path / "other"), 0.5)
    messages = []
    meta = average_checkpoints([trained_checkpoint, other], str(tmp_path / "avg"),
                               dev=[training_data["dev_tsv"]], log=messages.append)
    base, _, _ = load_checkpoint(trained_checkpoint)
    averaged, _, saved = load_checkpoint(str(tmp_path / "avg"))
    for (name, a), (_, b) in zip(base.state_dict().items(), averaged.state_dict().items()):
        if a.is_floating_point():
            torch.testing.assert_close(b, a + 0.25, msg=name)
    assert saved["averaged_from"] == meta["averaged_from"] and len(saved["averaged_from"]) == 2
    assert 0.0 <= saved["metrics"]["dev_accuracy"] <= 1.0 and saved["metrics"]["dev_total"] > 0
    assert any("accuracy" in m for m in messages)


def test_average_refuses_other_label_spaces_and_single_inputs(trained_checkpoint, tmp_path):
    other = str(tmp_path / "other")
    shutil.copytree(trained_checkpoint, other)
    meta_path = os.path.join(other, "best", "polyphone.json")
    meta = json.load(open(meta_path, encoding="utf-8"))
    meta["labels"] = meta["labels"][::-1]
    json.dump(meta, open(meta_path, "w", encoding="utf-8"))
    with pytest.raises(CheckpointError, match="labels differ"):
        average_checkpoints([trained_checkpoint, other], str(tmp_path / "avg"), log=lambda m: None)
    with pytest.raises(CheckpointError, match="at least two"):
        average_checkpoints([trained_checkpoint], str(tmp_path / "avg"), log=lambda m: None)
    assert not os.path.exists(tmp_path / "avg")


def test_cli_average_reports_a_mismatch_in_one_line(trained_checkpoint, tmp_path):
    result = run_cli("average", trained_checkpoint, str(tmp_path / "missing"), "--out", str(tmp_path / "avg"))
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "missing" in err


def test_an_exported_average_names_its_runs_in_the_manifest(trained_checkpoint, tmp_path):
    pytest.importorskip("onnxruntime")
    from pinyin_edge.exporters.onnx_export import export_bundle

    other = _shifted_copy(trained_checkpoint, str(tmp_path / "other"), 0.01)
    meta = average_checkpoints([trained_checkpoint, other], str(tmp_path / "avg"), log=lambda m: None)
    manifest = export_bundle(str(tmp_path / "avg"), str(tmp_path / "bundle"), log=lambda m: None)
    assert manifest.provenance["averaged_from"] == [os.path.basename(os.path.normpath(p))
                                                     for p in meta["averaged_from"]]
