"""The Recoupe ontology: FollowTheMoney's schemata plus our own, loaded as one model.

The ontology is data: schemata live in YAML files. FollowTheMoney's own files come first,
then every ``*.yaml`` file in ``recoupe/ontology/schemata`` (and any extra directory given),
so our schemata can extend FtM ones while FtM entities keep their meaning unchanged.
"""

from recoupe.ontology.model import entity_id, load_model, model

__all__ = ["entity_id", "load_model", "model"]
