"""Code students write in notebooks every day, and code written to cheat: the integrity layers must tell them apart.

``HARMLESS`` must never cost a point: the static scan may list an entry for
review but never withhold, and a submission running all of them (cells of their
own, after a correct answer) must be graded with full marks through the real
grading path. ``HOSTILE`` must always be withheld, naming the construct.
Instructors: add the idioms your students use; the tests pick them up.
"""

from __future__ import annotations

HARMLESS: dict[str, str] = {
    "plot_size": "import matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (8, 4)",
    "rcparams_update": "import matplotlib as mpl\nmpl.rcParams.update({'font.size': 9})",
    "plot_style": "import matplotlib.pyplot as plt\nplt.style.use('default')",
    "plot_and_close": "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2, 3])\nax.set_title('loss')\nplt.close(fig)",
    "matplotlib_magic": "%matplotlib inline",
    "timeit_magic": "%timeit -n 3 -r 1 sum(range(100))",
    "shell_escape": "!echo hello",
    "warnings_filter": "import warnings\nwarnings.filterwarnings('ignore', category=DeprecationWarning)",
    "warnings_simplefilter": "import warnings\nwarnings.simplefilter('ignore')",
    "logging_level": "import logging\nlogging.getLogger('matplotlib').setLevel(logging.ERROR)",
    "numpy_seed": "np.random.seed(0)",
    "numpy_generator": "rng = np.random.default_rng(42)\nsample = rng.normal(size=3)",
    "print_options": "np.set_printoptions(precision=3, suppress=True)",
    "numpy_errstate": "with np.errstate(divide='ignore', invalid='ignore'):\n    ratio = np.array([1.0, 0.0]) / np.array([0.0, 0.0])",
    "seterr": "old_settings = np.seterr(over='ignore')",
    "numpy2_shim": "np.float_ = np.float64  # old code still says np.float_",
    "setattr_own_object": "class Config:\n    def __init__(self, **kwargs):\n        for key, value in kwargs.items():\n            setattr(self, key, value)\ncfg = Config(lr=0.1, epochs=3)",
    "dict_own_object": "class Record:\n    pass\nrecord = Record()\nrecord.__dict__.update({'loss': 0.5})\nprint(vars(record))",
    "globals_debug_print": "print(sorted(k for k in globals() if not k.startswith('_'))[:5])",
    "globals_update_own": "globals().update({'my_learning_rate': 0.01})",
    "locals_print": "def show(a, b):\n    print(locals())\nshow(1, 2)",
    "importlib_reload": "import importlib, textwrap\ntextwrap = importlib.reload(textwrap)",
    "functools": "import functools\n@functools.lru_cache(maxsize=None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nsquare = functools.partial(pow, exp=2)\nprint(fib(20), square(3))",
    "tqdm_loop": "from tqdm.auto import tqdm\ntotal = 0\nfor i in tqdm(range(50), desc='epochs'):\n    total += i",
    "ipython_display": "from IPython.display import display, Markdown\ndisplay(Markdown('**loss** went down'))",
    "run_line_magic": "get_ipython().run_line_magic('precision', '4')",
    "os_environ": "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'",
    "sys_path": "import sys\nsys.path.append('.')\nsys.setrecursionlimit(5000)",
    "sys_modules_read": "import sys\nprint('tensorflow' in sys.modules)",
    "getattr_module": "mean_fn = getattr(np, 'mean')\nprint(mean_fn([1.0, 3.0]))",
    "time_and_gc": "import gc, time\nstart = time.perf_counter()\ngc.collect()\nprint(f'{time.perf_counter() - start:.3f} s')",
    "dataclass": "from dataclasses import dataclass\n@dataclass\nclass Point:\n    x: float\n    y: float\nprint(Point(1.0, 2.0))",
    "inspect_source": "import inspect\nprint(inspect.signature(f))",
    "own_helper_named_like_numpy": "def allclose_report(a, b):\n    return bool(np.allclose(a, b))\nprint(allclose_report(f(1.0), 2.0))",
    "del_own_variable": "scratch = np.zeros(1000)\ndel scratch",
    "try_import": "try:\n    import pandas as pd\nexcept ImportError:\n    pd = None",
    "student_reimports": "import numpy as np\nfrom autograder.checks import check_close",
    "pickle_roundtrip": "import pickle\nweights = pickle.loads(pickle.dumps({'w': np.ones(3)}))",
}

HOSTILE: dict[str, tuple[str, str]] = {
    # name: (code, fragment the finding must name)
    "patch_allclose": ("np.allclose = lambda *a, **k: True", "np.allclose"),
    "patch_testing": ("import numpy\nnumpy.testing.assert_allclose = print", "numpy.testing.assert_allclose"),
    "setattr_module": ("setattr(np, 'allclose', len)", "setattr"),
    "patch_builtins": ("import builtins\nbuiltins.AssertionError = Warning", "builtins"),
    "sys_modules_write": ("import sys\nsys.modules['numpy'] = None", "sys.modules"),
    "sys_modules_update": ("import sys\nsys.modules.update({'numpy': None})", "sys.modules"),
    "transformer": ("get_ipython().input_transformers_post.append(lambda lines: [])", "input transformer"),
    "ast_transformer": ("get_ipython().ast_transformers.append(object())", "AST transformer"),
    "custom_exc": ("get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)", "exception handler"),
    "trace_hook": ("import sys\nsys.settrace(lambda *a: None)", "trace hook"),
    "excepthook": ("import sys\nsys.excepthook = lambda *a: None", "sys.excepthook"),
    "redefine_check": ("def check_close(*a, **k):\n    pass", "check_close"),
    "rebind_check": ("check_close = print", "check_close"),
    "import_as_check": ("from math import isclose as check_close", "check_close"),
    "globals_rebind": ("globals()['check_close'] = print", "check_close"),
    "vars_patch": ("vars(np)['allclose'] = lambda *a, **k: True", "vars(np)"),
    "dict_patch": ("np.__dict__['allclose'] = lambda *a, **k: True", "np.__dict__"),
    "code_swap": ("def g():\n    pass\nf.__code__ = g.__code__", "code"),
    "event_hook": ("get_ipython().events.register('post_run_cell', print)", "event hook"),
    "checks_patch": ("import autograder.checks as c\nc.check_close = print", "c.check_close"),
}
