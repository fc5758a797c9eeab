from wit_world import exports


class Behaviour(exports.Behaviour):
    pass
