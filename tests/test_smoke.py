from zhibu.core.scoping import scope_for


def test_branch_secretary_manages_only_their_branch(world):
    scope = scope_for(world.users.branch_secretary)
    assert scope.can_manage_org(world.sa_b1)
    assert not scope.can_manage_org(world.sa_b2)
    assert not scope.can_manage_org(world.sb_b1)
