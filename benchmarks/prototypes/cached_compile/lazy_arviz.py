import sys, types, importlib
_LIGHT = {"from_dict", "dict_to_dataset"}   # all nutpie.sample needs; live in arviz_base
def install():
    if "arviz" in sys.modules:
        return
    class _LazyArviz(types.ModuleType):
        def __getattr__(self, name):
            if name in _LIGHT:
                return getattr(importlib.import_module("arviz_base"), name)
            if name.startswith("__") and name != "__version__":
                raise AttributeError(name)
            del sys.modules["arviz"]
            real = importlib.import_module("arviz")
            self.__dict__.update(real.__dict__)
            sys.modules["arviz"] = real
            return getattr(real, name)
    sys.modules["arviz"] = _LazyArviz("arviz")
