"""The smoke config with persistent inner states, shared by the fault and truncation tests.

K = 3 inner steps and a lifetime of 6: each of the 4 task slots' networks lives 2 meta-steps,
slots 0-1 restarting at even steps and 2-3 at odd ones. The tests that use it also compile
the fault hook in (a schedule, fired or not), so they all run one meta-step program: keep
them on this one config.
"""

from dimo.configs import smoke


def persistent_smoke():
    config = smoke.get_config()
    config.inner.lifetime = 6
    return config
