"""Studies: arms x seeds of training runs, local or Ray execution, resume, statistics.

    from rigorlab.report.build import build_report
    from rigorlab.study import load_study, run_study
    study = load_study("examples/study_kl.yaml")          # or load_study(None, profile="quick")
    result = run_study(study, out="rigorlab-runs", workers=2, reporter=build_report)
    print(result.report_path)

The report is the layer above (rigorlab.report); this package never imports it.
"""

from rigorlab.study.runner import StudyResult, plan, run_study
from rigorlab.study.spec import Arm, ArmSpec, Study, StudySpec, default_study_path, load_study

__all__ = ["Arm", "ArmSpec", "Study", "StudySpec", "StudyResult", "default_study_path", "load_study", "plan",
           "run_study"]
